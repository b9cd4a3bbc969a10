-- wrk script for runtime_split.sh: POST one demo quote (CN -> DE, 850 g, explain) with the
-- API key from $KEY, the same request as `quote/demo_json`.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
wrk.body = '{"ship_date":"2026-11-24","origin":{"country":"CN"},"destination":{"country":"DE","postcode":"10115"},'
    .. '"parcel":{"weight_g":850,"length_mm":300,"width_mm":200,"height_mm":100},'
    .. '"declared_value":{"amount":"45.00","currency":"EUR"},"currency":"EUR","explain":true}'

-- wrk itself prints "Non-2xx or 3xx responses: N" when any answer was not a success.
