-- Bulk pre-routing in DuckDB: the peer crossdock's `route_file` is compared with.
--
-- For every parcel of {{parcels}}: the cheapest service that can carry it under the rate book
-- in {{book}}, with its sell, cost and margin in the quote currency, as rate-book.md defines
-- them; written to {{out}} (Parquet) with crossdock's output columns. The placeholders
-- {{book}}, {{parcels}}, {{out}}, {{base_currency}} and {{today}} are filled in by run.sh.
--
-- Written as a careful analyst would: every join is an equi-join or a range join on a key
-- (no cross joins), and money is exact. DuckDB turns DECIMAL / DECIMAL into DOUBLE, so amounts
-- are carried as 64-bit integers at a fixed scale and every rounding is an integer division
-- rounding half away from zero: book money in millionths (10^-6), rounded amounts in the
-- minor units of their currency, and each currency conversion as an exact ratio of two
-- integers, reduced by their gcd (from the rates in 10^-8). A guard below stops the query if a
-- book holds amounts finer than that, rather than pricing them wrongly; DuckDB's checked
-- arithmetic stops it on an overflow. (HUGEINT would need neither, but 128-bit division made
-- the query markedly slower in DuckDB 2.0.)
--
-- Shaped for memory as well: parcels meet their options through `lane_prices` (service ×
-- destination × customer, with the lane's surcharge rows and price row attached), so every
-- join after the fan-out to options has a small build side; with a separate price join after
-- the fan-out DuckDB built its hash table on the options and ran out of memory (19 GB) at
-- one million parcels.
--
-- Covered, with the engine's semantics:
--   * eligibility: validity [from, to) on the ship date, origin country, a zone for the
--     destination, max weight, longest side and girth (unknown dimensions pass), declared
--     value converted exactly into the service currency, DDP, tracking, transit days, and a
--     weight band covering the chargeable weight;
--   * zones: the longest matching postcode prefix of the chart, the whole-country row as
--     the fallback; postcodes normalised (upper case, no spaces or dashes);
--   * chargeable weight: volumetric (ceil(L·W·H / divisor), only when all three dimensions
--     are known and the longest side reaches the minimum side), the service minimum, rounded
--     up to the weight step;
--   * the band by a range join (previous band's max_weight_g < chargeable <= max_weight_g);
--     BASE = fixed + per_kg × g / 1000, rounded half away from zero;
--   * surcharges by service (or *), country, postcode prefix, battery, incoterm, minimum
--     chargeable weight, minimum length and validity; fixed, per_kg and percent_of_base (of
--     BASE), each floored at its minimum and rounded;
--   * each line converted to the quote currency and rounded on its own; cost = their sum;
--   * sell = cost + round(cost × markup_percent / 100) + round(converted markup_fixed), with
--     the most specific price row (customer 4, service 2, country 1; no customer: * rows);
--   * the cheapest option per parcel, ties by transit_days_max, then service code.
--
-- Left out (crossdock does these; this query does not):
--   * restrictions: declared goods and battery categories are not checked, so a parcel
--     carrying them may be routed on a service that refuses them (compare only parcels
--     without battery and goods, as run.sh does);
--   * the reasons of unroutable parcels (this writes `unroutable` with no reasons);
--   * validation: malformed rows (lower-case codes, negative weights, unknown or rate-less
--     currencies) are not reported as `invalid`; they simply find no service, or are priced
--     on what they say;
--   * landed cost, customs issues, the `fastest` and `best_value` strategies, services or
--     carriers named by the request;
--   * the input order of rows (DuckDB does not keep it through joins; rows carry their id).

-- Rows carry their id; their order is not kept (this saves DuckDB much memory).
SET preserve_insertion_order = false;

-- ISO 4217 minor units where they are not 2.
CREATE TEMP TABLE minor_digits AS
SELECT * FROM (VALUES
    ('BIF', 0), ('CLP', 0), ('DJF', 0), ('GNF', 0), ('ISK', 0), ('JPY', 0), ('KMF', 0), ('KRW', 0),
    ('PYG', 0), ('RWF', 0), ('UGX', 0), ('UYI', 0), ('VND', 0), ('VUV', 0), ('XAF', 0), ('XOF', 0),
    ('XPF', 0), ('BHD', 3), ('IQD', 3), ('JOD', 3), ('KWD', 3), ('LYD', 3), ('OMR', 3), ('TND', 3),
    ('CLF', 4), ('UYW', 4)
) AS t(currency, digits);

-- n / d rounded half away from zero, for n >= 0 and d > 0 (every amount of a valid book is
-- non-negative).
CREATE MACRO div_round(n, d) AS (2 * n + d) // (2 * d);
CREATE MACRO norm_postcode(s) AS nullif(upper(replace(replace(s, ' ', ''), '-', '')), '');
-- Money of the book in millionths, exactly (checked by the guard below).
CREATE MACRO micros(x) AS CAST(x * 1000000 AS BIGINT);
CREATE MACRO minor_text(m, digits, unit) AS
    CASE WHEN digits = 0 THEN CAST(m AS VARCHAR)
         ELSE CAST(m // unit AS VARCHAR) || '.' || lpad(CAST(m % unit AS VARCHAR), digits, '0') END;

-- Currencies of the book: minor digits, 10^digits, and the rate to the base in 10^-8.
CREATE TEMP TABLE ccy AS
SELECT f.currency,
       coalesce(m.digits, 2) AS digits,
       CAST(CASE coalesce(m.digits, 2) WHEN 0 THEN 1 WHEN 3 THEN 1000 WHEN 4 THEN 10000 ELSE 100 END AS BIGINT) AS unit,
       CAST(f.per_base * 100000000 AS BIGINT) AS rate8
FROM read_parquet('{{book}}/fx.parquet') f
LEFT JOIN minor_digits m USING (currency);

-- Conversion of minor units between two currencies of the book as an exact ratio num / den:
-- x minor units of `from` are x × unit(to) × rate(to) / (unit(from) × rate(from)) of `to`.
CREATE TEMP TABLE fx_pair AS
SELECT f.currency AS from_ccy, t.currency AS to_ccy,
       CAST(t.unit * t.rate8 // gcd(t.unit * t.rate8, f.unit * f.rate8) AS BIGINT) AS num,
       CAST(f.unit * f.rate8 // gcd(t.unit * t.rate8, f.unit * f.rate8) AS BIGINT) AS den
FROM ccy f, ccy t;   -- a handful of currencies: every pair

CREATE TEMP TABLE svc AS
SELECT row_number() OVER (ORDER BY s.service_code) AS sidx,   -- orders like the code
       dense_rank() OVER (ORDER BY s.zone_chart) AS cid,         -- integer join keys
       s.service_code, s.carrier, s.origin_country, s.zone_chart, s.tracked, s.ddp,
       s.max_weight_g, s.max_length_mm, s.max_girth_mm, s.max_value,
       s.volumetric_divisor, s.volumetric_min_side_mm, coalesce(s.min_chargeable_g, 0) AS min_chargeable_g,
       coalesce(s.weight_step_g, 1) AS step_g, s.valid_from, s.valid_to,
       s.currency AS s_ccy, c.unit AS s_unit, c.rate8 AS s_rate8
FROM read_parquet('{{book}}/services.parquet') s
JOIN ccy c ON c.currency = s.currency;

-- Surcharge rows as structs, in table order (the order does not change a sum of lines each
-- rounded on its own, but it is the book's).
CREATE TEMP TABLE sur AS
SELECT row_number() OVER () AS seq, service_code, dest_country, valid_from, valid_to,
       {'kind': kind, 'amount6': micros(amount), 'minimum6': coalesce(micros(minimum), 0),
        'prefix': norm_postcode(postcode_prefix), 'battery': battery, 'incoterm': incoterm,
        'min_g': min_chargeable_g, 'min_length_mm': min_length_mm,
        'valid_from': valid_from, 'valid_to': valid_to} AS row
FROM read_parquet('{{book}}/surcharges.parquet');

CREATE TEMP TABLE prices AS
SELECT p.customer, p.service_code, p.dest_country, micros(p.markup_percent) AS pct6,
       micros(p.markup_fixed) AS fixed6, p.currency AS m_ccy, c.unit AS m_unit
FROM read_parquet('{{book}}/prices.parquet') p
LEFT JOIN ccy c ON c.currency = p.currency;

-- The guard: amounts finer than the integer scales would be priced wrongly.
SELECT CASE WHEN count(*) > 0 THEN error('the book has amounts with more than 6 decimals') END
FROM (
    SELECT fixed AS x FROM read_parquet('{{book}}/rates.parquet') UNION ALL SELECT per_kg FROM read_parquet('{{book}}/rates.parquet')
    UNION ALL SELECT amount FROM read_parquet('{{book}}/surcharges.parquet') UNION ALL SELECT minimum FROM read_parquet('{{book}}/surcharges.parquet')
    UNION ALL SELECT markup_percent FROM read_parquet('{{book}}/prices.parquet') UNION ALL SELECT markup_fixed FROM read_parquet('{{book}}/prices.parquet')
)
WHERE x * 1000000 <> CAST(x * 1000000 AS HUGEINT);
SELECT CASE WHEN count(*) > 0 THEN error('the book has exchange rates with more than 8 decimals') END
FROM read_parquet('{{book}}/fx.parquet')
WHERE per_base * 100000000 <> CAST(per_base * 100000000 AS HUGEINT);

-- Zone rows with normalised prefixes; the whole-country row has the prefix ''.
CREATE TEMP TABLE zone_rows AS
SELECT c.cid, z.dest_country, coalesce(norm_postcode(z.postcode_prefix), '') AS prefix,
       z.zone, dense_rank() OVER (ORDER BY zone) AS zid,   -- a number per zone name: integer join keys
       z.transit_days_min, z.transit_days_max
FROM read_parquet('{{book}}/zones.parquet') z
JOIN (SELECT DISTINCT zone_chart, cid FROM svc) c USING (zone_chart);   -- charts no service uses are left out

-- Bands with their lower bound (the previous band's max_weight_g, or 0), for the range join.
CREATE TEMP TABLE bands AS
SELECT s.sidx, z.zid,
       coalesce(lag(r.max_weight_g) OVER (PARTITION BY r.service_code, r.zone ORDER BY r.max_weight_g), 0) AS above_g,
       r.max_weight_g AS upto_g,
       micros(r.fixed) AS fixed6, micros(r.per_kg) AS per_kg6
FROM read_parquet('{{book}}/rates.parquet') r
JOIN svc s ON s.service_code = r.service_code
JOIN (SELECT DISTINCT zone, zid FROM zone_rows) z ON z.zone = r.zone;

CREATE TEMP TABLE parcels_in AS
SELECT row_number() OVER () AS rn, id,
       coalesce(nullif(customer, ''), '') AS customer,          -- '' : only * price rows
       coalesce(ship_date, DATE '{{today}}') AS ship_date,
       origin_country, dest_country, norm_postcode(dest_postcode) AS pc,
       -- The postcode's first characters, as many as the longest zone prefix: the zone key.
       coalesce(left(norm_postcode(dest_postcode), (SELECT max(length(prefix)) FROM zone_rows)), '') AS pc_key,
       weight_g,
       greatest(length_mm, width_mm, height_mm) AS longest_mm,  -- of the known sides
       CASE WHEN length_mm IS NOT NULL AND width_mm IS NOT NULL AND height_mm IS NOT NULL
            THEN 2 * (length_mm + width_mm + height_mm) - greatest(length_mm, width_mm, height_mm) END AS girth_mm,   -- longest + 2 × the others
       CAST(length_mm AS BIGINT) * width_mm * height_mm AS volume_mm3,
       value_amount, v.rate8 AS v_rate8,
       nullif(nullif(battery, ''), 'none') IS NOT NULL AS has_battery,
       coalesce(nullif(incoterm, ''), 'DDU') AS incoterm,
       coalesce(tracked_required, false) AS tracked_required,
       max_transit_days,
       q.currency AS q_ccy, q.digits AS q_digits, q.unit AS q_unit
FROM read_parquet('{{parcels}}') p
LEFT JOIN ccy v ON v.currency = p.value_currency
LEFT JOIN ccy q ON q.currency = coalesce(nullif(p.currency, ''), '{{base_currency}}');

-- The zone of each chart for each (destination, postcode key): the longest prefix wins, the
-- whole-country row (prefix '') is the fallback. Keyed by the postcode's first characters, as
-- many as the longest prefix, so the lookup runs once per key instead of once per parcel.
CREATE TEMP TABLE zone_keys AS
SELECT dest_country, pc_key, row_number() OVER () AS zkey
FROM (SELECT DISTINCT dest_country, pc_key FROM parcels_in);

CREATE TEMP TABLE zone_of AS
SELECT k.zkey, z.cid,
       arg_max({'zid': z.zid, 'tmin': z.transit_days_min, 'tmax': z.transit_days_max}, length(z.prefix)) AS hit
FROM zone_keys k
JOIN zone_rows z ON z.dest_country = k.dest_country AND (z.prefix = '' OR starts_with(k.pc_key, z.prefix))
GROUP BY ALL;

CREATE TEMP TABLE parcels AS
SELECT p.*, k.zkey FROM parcels_in p JOIN zone_keys k USING (dest_country, pc_key);

-- Surcharge rows grouped by how an option finds them: its service's rows without a country,
-- its service's rows for its destination (both through its lane, below), and the * rows in
-- force on its ship date (without a country, or for its destination). Each option then
-- carries a short list of rows to check.
CREATE TEMP TABLE sur_service AS
SELECT v.sidx, list(s.row ORDER BY s.seq) AS rows FROM sur s JOIN svc v USING (service_code)
WHERE s.dest_country IS NULL GROUP BY ALL;

CREATE TEMP TABLE sur_service_country AS
SELECT v.sidx, s.dest_country, list(s.row ORDER BY s.seq) AS rows FROM sur s JOIN svc v USING (service_code)
WHERE s.dest_country IS NOT NULL GROUP BY ALL;

CREATE TEMP TABLE sur_any_day AS
SELECT d.ship_date, list(s.row ORDER BY s.seq) AS rows
FROM (SELECT DISTINCT ship_date FROM parcels) d
JOIN sur s ON s.service_code = '*' AND s.dest_country IS NULL
          AND (s.valid_from IS NULL OR d.ship_date >= s.valid_from) AND (s.valid_to IS NULL OR d.ship_date < s.valid_to)
GROUP BY ALL;

CREATE TEMP TABLE sur_any_country_day AS
SELECT d.ship_date, s.dest_country, list(s.row ORDER BY s.seq) AS rows
FROM (SELECT DISTINCT ship_date FROM parcels) d
JOIN sur s ON s.service_code = '*' AND s.dest_country IS NOT NULL
          AND (s.valid_from IS NULL OR d.ship_date >= s.valid_from) AND (s.valid_to IS NULL OR d.ship_date < s.valid_to)
GROUP BY ALL;

-- Lanes: each service with each destination country its chart has zones for, and the
-- service's own surcharge rows for that country (with or without a country condition).
-- Parcels meet services through their lane, so only services that serve the destination
-- become options.
CREATE TEMP TABLE lanes AS
SELECT s.*, d.dest_country,
       list_concat(coalesce(a.rows, []), coalesce(c.rows, [])) AS lane_surcharges
FROM svc s
JOIN (SELECT DISTINCT cid, dest_country FROM zone_rows) d ON d.cid = s.cid
LEFT JOIN sur_service a ON a.sidx = s.sidx
LEFT JOIN sur_service_country c ON c.sidx = s.sidx AND c.dest_country = d.dest_country;

-- The winning price row of each (customer, service, destination) the file can ask for: the
-- most specific match, scored customer 4, service 2, country 1.
CREATE TEMP TABLE price_pick AS
SELECT k.customer, k.sidx, k.dest_country,
       arg_max({'pct6': pr.pct6, 'fixed6': pr.fixed6, 'm_ccy': pr.m_ccy, 'm_unit': pr.m_unit}, k.score) AS pr
FROM (
    SELECT customer, sidx, dest_country, unnest([
        {'c': customer, 's': service_code, 'd': dest_country, 'score': 7},
        {'c': customer, 's': service_code, 'd': '*', 'score': 6},
        {'c': customer, 's': '*', 'd': dest_country, 'score': 5},
        {'c': customer, 's': '*', 'd': '*', 'score': 4},
        {'c': '*', 's': service_code, 'd': dest_country, 'score': 3},
        {'c': '*', 's': service_code, 'd': '*', 'score': 2},
        {'c': '*', 's': '*', 'd': dest_country, 'score': 1},
        {'c': '*', 's': '*', 'd': '*', 'score': 0}
    ], recursive := true)
    FROM (SELECT DISTINCT p.customer, s.sidx, s.service_code, p.dest_country
          FROM (SELECT DISTINCT customer, origin_country, dest_country FROM parcels_in) p
          JOIN svc s ON s.origin_country = p.origin_country)
) k
JOIN prices pr ON pr.customer = k.c AND pr.service_code = k.s AND pr.dest_country = k.d
GROUP BY ALL;

-- Each lane once per customer of the file, with the customer's price row for it: parcels
-- then meet their options and their prices in one join.
CREATE TEMP TABLE lane_prices AS
SELECT l.*, c.customer, pp.pr AS price
FROM lanes l
JOIN (SELECT DISTINCT customer, origin_country FROM parcels_in) c ON c.origin_country = l.origin_country
LEFT JOIN price_pick pp ON pp.customer = c.customer AND pp.sidx = l.sidx AND pp.dest_country = l.dest_country;

COPY (
WITH
-- Every service that can carry the parcel, with its zone and chargeable weight.
eligible AS (
    SELECT p.rn, p.customer, p.dest_country, p.pc, p.ship_date, p.has_battery, p.incoterm, p.longest_mm,
           p.q_ccy, s.sidx, s.s_unit, x.num, x.den, s.lane_surcharges, s.price, z.hit.zid AS zid, z.hit.tmin AS tmin, z.hit.tmax AS tmax,
           (greatest(p.weight_g,
                     CASE WHEN s.volumetric_divisor IS NOT NULL AND p.volume_mm3 IS NOT NULL
                               AND (s.volumetric_min_side_mm IS NULL OR p.longest_mm >= s.volumetric_min_side_mm)
                          THEN (p.volume_mm3 + s.volumetric_divisor - 1) // s.volumetric_divisor ELSE 0 END,
                     s.min_chargeable_g) + s.step_g - 1) // s.step_g * s.step_g AS cw
    FROM parcels p
    JOIN lane_prices s ON s.origin_country = p.origin_country AND s.dest_country = p.dest_country AND s.customer = p.customer
    JOIN zone_of z ON z.zkey = p.zkey AND z.cid = s.cid
    JOIN fx_pair x ON x.from_ccy = s.s_ccy AND x.to_ccy = p.q_ccy
    WHERE (s.valid_from IS NULL OR p.ship_date >= s.valid_from)
      AND (s.valid_to IS NULL OR p.ship_date < s.valid_to)
      AND p.weight_g <= s.max_weight_g
      AND (s.max_length_mm IS NULL OR p.longest_mm IS NULL OR p.longest_mm <= s.max_length_mm)
      AND (s.max_girth_mm IS NULL OR p.girth_mm IS NULL OR p.girth_mm <= s.max_girth_mm)
      -- value × P_s / P_v > max  ⇔  value × P_s > max × P_v, exactly
      AND (s.max_value IS NULL OR p.value_amount IS NULL
           OR p.value_amount * s.s_rate8 <= s.max_value * p.v_rate8)
      AND (p.incoterm <> 'DDP' OR s.ddp)
      AND (NOT p.tracked_required OR s.tracked)
      AND (p.max_transit_days IS NULL OR z.hit.tmax <= p.max_transit_days)
),
-- The band (range join), BASE in minor units of the service currency from
-- fixed + per_kg × g / 1000 in 10^-9 units, and the surcharge rows to look at.
-- The * surcharge rows of the ship date join the lane's own.
looked_up AS (
    SELECT e.*, list_concat(e.lane_surcharges, coalesce(d.rows, []), coalesce(f.rows, [])) AS surcharges
    FROM eligible e
    LEFT JOIN sur_any_day d ON d.ship_date = e.ship_date
    LEFT JOIN sur_any_country_day f ON f.ship_date = e.ship_date AND f.dest_country = e.dest_country
),
priced AS (
    SELECT l.*, div_round(b.fixed6 * 1000 + b.per_kg6 * l.cw, 1000000000 // l.s_unit) AS base
    FROM looked_up l
    JOIN bands b ON b.sidx = l.sidx AND b.zid = l.zid
                AND l.cw > b.above_g AND l.cw <= b.upto_g
),
-- Each line (BASE and every surcharge that applies, floored at its minimum and rounded in
-- the service currency) converted into the quote currency and rounded on its own; the cost
-- is their sum.
costed AS (
    SELECT rn, sidx, cw, tmin, tmax, q_ccy, price,
           div_round(base * num, den)
           + coalesce(list_sum([
                 div_round(
                     CASE x.kind
                         WHEN 'fixed' THEN div_round(greatest(x.amount6, x.minimum6), 1000000 // s_unit)
                         WHEN 'per_kg' THEN div_round(greatest(x.amount6 * cw, x.minimum6 * 1000), 1000000000 // s_unit)
                         WHEN 'percent_of_base' THEN div_round(greatest(base * x.amount6, x.minimum6 * s_unit * 100), 100000000)
                     END * num,
                     den)
                 FOR x IN surcharges
                 IF (x.valid_from IS NULL OR ship_date >= x.valid_from)
                    AND (x.valid_to IS NULL OR ship_date < x.valid_to)
                    AND (x.prefix IS NULL OR coalesce(starts_with(pc, x.prefix), false))
                    AND (x.battery IS NULL OR x.battery = has_battery)
                    AND (x.incoterm IS NULL OR x.incoterm = incoterm)
                    AND (x.min_g IS NULL OR cw >= x.min_g)
                    AND (x.min_length_mm IS NULL OR coalesce(longest_mm >= x.min_length_mm, false))
             ]), 0) AS cost
    FROM priced
),
-- sell = cost + round(cost × markup_percent / 100) + round(markup_fixed converted).
sold AS (
    SELECT o.*,
           o.cost
           + coalesce(div_round(o.cost * o.price.pct6, 100000000), 0)
           -- markup_fixed in millionths of its currency: × unit / 10^6 its minor units, then converted
           + coalesce(div_round(o.price.fixed6 * o.price.m_unit * x.num, 1000000 * x.den), 0) AS sell
    FROM costed o
    LEFT JOIN fx_pair x ON x.from_ccy = o.price.m_ccy AND x.to_ccy = o.q_ccy
),
-- The cheapest option; ties by transit_days_max, then service code.
best AS (
    SELECT rn, arg_min({'sidx': sidx, 'sell': sell, 'cost': cost, 'cw': cw, 'tmin': tmin, 'tmax': tmax}, (sell, tmax, sidx)) AS o
    FROM sold
    GROUP BY rn
)
SELECT p.id,
       CASE WHEN b.o IS NULL THEN 'unroutable' ELSE 'routed' END AS status,
       s.service_code AS service, s.carrier,
       p.q_ccy AS currency,
       minor_text(b.o.sell, p.q_digits, p.q_unit) AS sell,
       minor_text(b.o.cost, p.q_digits, p.q_unit) AS cost,
       minor_text(b.o.sell - b.o.cost, p.q_digits, p.q_unit) AS margin,
       b.o.cw AS chargeable_weight_g,
       b.o.tmin AS transit_days_min, b.o.tmax AS transit_days_max
FROM parcels p
LEFT JOIN best b ON b.rn = p.rn
LEFT JOIN svc s ON s.sidx = b.o.sidx
) TO '{{out}}' (FORMAT parquet, COMPRESSION snappy);
