//! Quoting a parcel: eligibility of every service, pricing of the eligible ones, ranking.
//!
//! Two pricers share the eligibility rules and the ranking:
//! - the fast one ([`Book::quote_into`]) works on integers: bands pre-scaled to one exact
//!   scale, amounts in minor units, currency conversion as exact reduced ratios, every
//!   operation checked for overflow;
//! - the exact one ([`Book::quote_exact`], in `exact.rs`) follows rate-book.md step by step
//!   in `rust_decimal`. It is the definition; a property test holds the fast one to it, and
//!   the fast one hands over to it whenever an integer would overflow.
//!
//! Budget per candidate service on the fast path (see benches/README.md): one zone lookup
//! per chart (cached per quote), a few integer compares for eligibility, a forward scan of
//! the zone's bands (≤ 60, packed with their amounts), the surcharge rows valid on the ship
//! date only (`dated`), one 64-bit division per line (base, each surcharge, each converted
//! line, the markup), no allocation.

use crate::book::{Book, CategoryRules, PriceTable, Service, Surcharge, SurchargeKind, ZoneHit};
use crate::customs;
use crate::dated::SegmentCache;
use crate::money::{Currency, mul_exact, pow10_i128, rescale_round};
use crate::quote::{Excluded, Line, Quote, QuoteOption, Reason, Reasons};
use crate::request::{Incoterm, Request, Strategy};
use rust_decimal::Decimal;

/// Declared categories beyond this many are refused at the boundary.
pub const GOODS_MAX: usize = 32;

/// Why a quote could not be computed at all (a business "no" is an empty `options`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuoteError {
    /// A currency of the request has no fx rate in this book; names the field.
    UnknownCurrency {
        field: &'static str,
        currency: Currency,
    },
    /// An amount is too large to price exactly.
    OutOfRange,
    /// More declared goods categories than [`GOODS_MAX`].
    TooManyGoods,
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::UnknownCurrency { field, currency } => write!(
                f,
                "{field}: the rate book has no exchange rate for {currency}"
            ),
            QuoteError::OutOfRange => f.write_str("an amount is too large to price exactly"),
            QuoteError::TooManyGoods => write!(f, "goods: at most {GOODS_MAX} categories"),
        }
    }
}

impl std::error::Error for QuoteError {}

/// Reusable per-thread working memory for quotes.
#[derive(Debug, Default)]
pub struct Scratch {
    zone_cache: Vec<Option<Option<ZoneHit>>>,
    value_cache: Vec<Option<Option<(i128, i128)>>>,
    named_services: Vec<u32>,
    named_carriers: Vec<u32>,
    segments: SegmentCache,
    pub(crate) landed_lines: Vec<(i128, Decimal)>,
}

/// What eligibility found for one eligible service.
#[derive(Clone, Copy)]
pub(crate) struct Candidate {
    pub service: u32,
    pub zone: ZoneHit,
    pub chargeable_g: u64,
    /// Index into the book's band tables.
    pub band: u32,
}

/// Everything about a request that does not depend on the service, computed once.
pub(crate) struct Context<'r, 'b> {
    pub req: &'r Request,
    pub quote_fx: u16,
    pub value_fx: Option<u16>,
    pub longest_mm: Option<u64>,
    pub girth_mm: Option<u64>,
    pub volume_mm3: Option<u64>,
    pub battery: Option<Option<&'b CategoryRules>>,
    pub goods: [Option<&'b CategoryRules>; GOODS_MAX],
    pub customer_prices: Option<&'b PriceTable>,
}

impl Book {
    /// Problems of a request that only this book can see: currencies without an fx rate.
    /// Field names follow the quote API (`currency`, `declared_value.currency`).
    pub fn request_problems(&self, req: &Request) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.fx.id(req.currency).is_none() {
            out.push((
                "currency",
                format!(
                    "{} is not a currency of rate book {} (it has no exchange rate)",
                    req.currency, self.label
                ),
            ));
        }
        if let Some(v) = &req.declared_value
            && self.fx.id(v.currency).is_none()
        {
            out.push((
                "declared_value.currency",
                format!(
                    "{} is not a currency of rate book {} (it has no exchange rate)",
                    v.currency, self.label
                ),
            ));
        }
        out
    }

    /// Quotes a request. Allocates its answer; see [`Book::quote_into`] to reuse buffers.
    pub fn quote(&self, req: &Request) -> Result<Quote, QuoteError> {
        let mut out = Quote::new(req.currency);
        self.quote_into(req, &mut Scratch::default(), &mut out)?;
        Ok(out)
    }

    /// Quotes a request into `out`, reusing its buffers and `scratch`.
    pub fn quote_into(
        &self,
        req: &Request,
        scratch: &mut Scratch,
        out: &mut Quote,
    ) -> Result<(), QuoteError> {
        out.clear(req.currency);
        if self.exact_only {
            *out = self.quote_exact(req)?;
            return Ok(());
        }
        let ctx = self.context(req)?;
        match self.run(&ctx, scratch, out, Pricer::Fast) {
            Some(()) => Ok(()),
            // An integer would have overflowed: the exact path decides.
            None => {
                *out = self.quote_exact(req)?;
                Ok(())
            }
        }
    }

    pub(crate) fn context<'r>(&self, req: &'r Request) -> Result<Context<'r, '_>, QuoteError> {
        let quote_fx = self
            .fx
            .id(req.currency)
            .ok_or(QuoteError::UnknownCurrency {
                field: "currency",
                currency: req.currency,
            })?;
        let value_fx = match &req.declared_value {
            None => None,
            Some(v) => Some(self.fx.id(v.currency).ok_or(QuoteError::UnknownCurrency {
                field: "declared_value.currency",
                currency: v.currency,
            })?),
        };
        if req.goods.len() > GOODS_MAX {
            return Err(QuoteError::TooManyGoods);
        }
        let mut goods = [None; GOODS_MAX];
        for (slot, category) in goods.iter_mut().zip(&req.goods) {
            *slot = self.restrictions.get(category.as_str());
        }
        Ok(Context {
            req,
            quote_fx,
            value_fx,
            longest_mm: req.longest_side_mm(),
            girth_mm: req.girth_mm(),
            volume_mm3: req.all_dims_mm().map(|[l, w, h]| l * w * h),
            battery: req.battery.map(|b| self.restrictions.get(b.category())),
            goods,
            customer_prices: req
                .customer
                .as_deref()
                .and_then(|c| self.price_tables.get(c)),
        })
    }

    /// Eligibility, pricing and ranking. `None` when the fast pricer overflowed.
    pub(crate) fn run(
        &self,
        ctx: &Context<'_, '_>,
        scratch: &mut Scratch,
        out: &mut Quote,
        pricer: Pricer,
    ) -> Option<()> {
        let req = ctx.req;
        scratch.zone_cache.clear();
        scratch.zone_cache.resize(self.charts.len(), None);
        // Every chart with rows for the destination, in one pass; the other charts can only
        // serve it through `*` rows, looked up when a service asks.
        if let Some(charts) = self.zones_by_country.get(&req.dest_country) {
            let pc = req.dest_postcode.as_ref();
            for (chart, cz) in charts {
                let any = || {
                    self.charts[*chart as usize]
                        .any_country
                        .as_ref()
                        .and_then(|a| a.lookup(pc))
                };
                scratch.zone_cache[*chart as usize] = Some(cz.lookup(pc).or_else(any));
            }
        }
        scratch.value_cache.clear();
        scratch.value_cache.resize(self.fx.rates.len(), None);
        scratch
            .segments
            .reset(self.dated_surcharges.partition_count());
        self.resolve_named(req, scratch);
        for (index, service) in self.services.iter().enumerate() {
            let index = index as u32;
            let (reasons, candidate) = self.eligibility(ctx, scratch, index, service);
            match candidate {
                Some(c) if reasons.is_empty() => {
                    let priced = match pricer {
                        Pricer::Fast => self.price_fast(ctx, &c, &mut scratch.segments, out),
                        Pricer::Exact => self.price_exact(ctx, &c, out),
                    };
                    priced?;
                }
                _ if req.explain => out.excluded.push(Excluded {
                    service: index,
                    reasons,
                }),
                _ => {}
            }
        }
        self.rank(req, out)?;
        out.customs_issues = customs::issues(self, req);
        if customs::wants_landed_cost(req) {
            match pricer {
                Pricer::Fast => self.landed_fast(ctx, scratch, out)?,
                Pricer::Exact => self.landed_exact(ctx, out)?,
            }
        }
        Some(())
    }

    fn resolve_named(&self, req: &Request, scratch: &mut Scratch) {
        scratch.named_services.clear();
        scratch.named_carriers.clear();
        scratch.named_services.extend(
            req.services
                .iter()
                .filter_map(|code| self.service_by_code.get(code.as_str()).copied()),
        );
        scratch
            .named_carriers
            .extend(req.carriers.iter().filter_map(|name| {
                self.carriers
                    .iter()
                    .position(|c| **c == **name)
                    .map(|i| i as u32)
            }));
    }

    /// Every reason that excludes `service`, and what pricing needs when none does.
    fn eligibility<'b>(
        &'b self,
        ctx: &Context<'_, '_>,
        scratch: &mut Scratch,
        index: u32,
        s: &'b Service,
    ) -> (Reasons, Option<Candidate>) {
        let req = ctx.req;
        let mut reasons = Reasons::default();
        if !s.validity.contains(req.ship_date) {
            reasons.insert(Reason::Inactive);
        }
        if s.origin != req.origin_country {
            reasons.insert(Reason::OriginMismatch);
        }
        // Charts with rows for the destination were filled in by `run`; the rest have only
        // their `*` rows.
        let zone = *scratch.zone_cache[s.chart as usize].get_or_insert_with(|| {
            let any = self.charts[s.chart as usize].any_country.as_ref();
            any.and_then(|cz| cz.lookup(req.dest_postcode.as_ref()))
        });
        if zone.is_none() {
            reasons.insert(Reason::DestinationNotServed);
        }
        if u64::from(req.weight_g) > s.max_weight_g {
            reasons.insert(Reason::OverMaxWeight);
        }
        if let (Some(max), Some(longest)) = (s.max_length_mm, ctx.longest_mm)
            && longest > max
        {
            reasons.insert(Reason::OverMaxLength);
        }
        if let (Some(max), Some(girth)) = (s.max_girth_mm, ctx.girth_mm)
            && girth > max
        {
            reasons.insert(Reason::OverMaxGirth);
        }
        if let Some(max) = s.max_value
            && self.over_max_value(ctx, scratch, s, max)
        {
            reasons.insert(Reason::OverMaxValue);
        }
        if let Some(rules) = ctx.battery
            && !accepted(rules, index, req)
        {
            reasons.insert(Reason::BatteryNotAccepted);
        }
        if ctx.goods[..req.goods.len()]
            .iter()
            .any(|rules| !accepted(*rules, index, req))
        {
            reasons.insert(Reason::GoodsNotAccepted);
        }
        if req.incoterm == Incoterm::Ddp && !s.ddp {
            reasons.insert(Reason::DdpNotSupported);
        }
        if req.require_tracked && !s.tracked {
            reasons.insert(Reason::NotTracked);
        }
        if let (Some(z), Some(max)) = (zone, req.max_transit_days)
            && u64::from(z.transit_days_max) > u64::from(max)
        {
            reasons.insert(Reason::TooSlow);
        }
        let named = !req.services.is_empty() || !req.carriers.is_empty();
        if named
            && !scratch.named_services.contains(&index)
            && !scratch.named_carriers.contains(&s.carrier_id)
        {
            reasons.insert(Reason::NotRequested);
        }
        let Some(zone) = zone else {
            return (reasons, None);
        };
        let chargeable_g = chargeable_weight_g(s, req, ctx.volume_mm3, ctx.longest_mm);
        let zb = self.zone_bands[(s.zone_bands_at + zone.zone) as usize];
        if zb.len == 0 || chargeable_g > zb.max_weight_g {
            reasons.insert(Reason::NoRate);
            return (reasons, None);
        }
        // Only a service that can still carry the parcel needs its band.
        if !reasons.is_empty() {
            return (reasons, None);
        }
        let (start, end) = (zb.start as usize, (zb.start + zb.len) as usize);
        // Bands are few (tens) and contiguous: a scan reads them in order, which the
        // prefetcher streams, where a binary search would wait on one cache miss after another.
        // `chargeable_g ≤ max_weight_g` of the zone, so a band is always found.
        // Weights above u32::MAX are saturated, which compares exactly while chargeable_g
        // fits 32 bits; heavier parcels compare the full weights.
        let offset = match u32::try_from(chargeable_g) {
            // Measured on the synthetic book: stopping at the band beats counting every
            // lighter band (+30 %) and a binary search (+20 %); most parcels are light.
            Ok(g) => self.bands_fast[start..end]
                .iter()
                .position(|b| b.max_weight_g >= g),
            Err(_) => (start..end).position(|i| self.band_weight(i) >= chargeable_g),
        };
        let at = start + offset.unwrap_or(end - start);
        if at >= end {
            reasons.insert(Reason::NoRate);
            return (reasons, None);
        }
        (
            reasons,
            Some(Candidate {
                service: index,
                zone,
                chargeable_g,
                band: at as u32,
            }),
        )
    }

    /// Whether the declared value, converted exactly (unrounded) into the service currency,
    /// exceeds `max`. Cross-multiplied so nothing is divided: v·P_s/P_d > m ⇔ v·P_s > m·P_d.
    fn over_max_value(
        &self,
        ctx: &Context<'_, '_>,
        scratch: &mut Scratch,
        s: &Service,
        max: Decimal,
    ) -> bool {
        let (Some(value), Some(value_fx)) = (&ctx.req.declared_value, ctx.value_fx) else {
            return false;
        };
        let fx = &self.fx;
        // Per quote and service currency: (v × P_s as mantissa·10^(sd), P_d × 10^(sv+ss)).
        let sides = *scratch.value_cache[usize::from(s.fx_id)].get_or_insert_with(|| {
            let (v, ps, pd) = (value.amount, fx.per_base(s.fx_id), fx.per_base(value_fx));
            let left = v
                .mantissa()
                .checked_mul(ps.mantissa())?
                .checked_mul(pow10_i128(pd.scale())?)?;
            let right = pd
                .mantissa()
                .checked_mul(pow10_i128(v.scale() + ps.scale())?)?;
            Some((left, right))
        });
        let exact = sides.and_then(|(left, right)| {
            let l = left.checked_mul(pow10_i128(max.scale())?)?;
            let r = max.mantissa().checked_mul(right)?;
            Some(l > r)
        });
        exact.unwrap_or_else(|| {
            let converted = value
                .amount
                .checked_mul(fx.per_base(s.fx_id))
                .and_then(|x| x.checked_div(fx.per_base(value_fx)));
            converted.is_some_and(|c| c > max)
        })
    }

    fn price_fast(
        &self,
        ctx: &Context<'_, '_>,
        c: &Candidate,
        segments: &mut SegmentCache,
        out: &mut Quote,
    ) -> Option<()> {
        let s = &self.services[c.service as usize];
        let digits = s.currency.minor_digits();
        let cg = i128::from(c.chargeable_g);
        let band = self.bands_fast.get(c.band as usize)?;
        let base_scaled = i128::from(band.fixed_scaled) + i128::from(band.per_g_scaled) * cg;
        let base = rescale_round(base_scaled, self.rate_scale, digits)?;
        let first_line = out.lines.len() as u32;
        out.lines.push(Line {
            code: 0,
            amount: i64::try_from(base).ok()?,
        });
        let mut failed = false;
        self.surcharges_on_date(ctx, s, c.chargeable_g, segments, |sur| {
            let amount = surcharge_fast(sur, base, cg, digits);
            match amount.and_then(|a| i64::try_from(a).ok()) {
                Some(amount) => out.lines.push(Line {
                    code: sur.line,
                    amount,
                }),
                None => failed = true,
            }
        });
        if failed {
            return None;
        }
        // Into the quote currency, line by line, so the breakdown adds up.
        let mut cost: i128 = 0;
        for line in &mut out.lines[first_line as usize..] {
            let converted =
                self.fx
                    .convert(i128::from(line.amount), digits, s.fx_id, ctx.quote_fx)?;
            line.amount = i64::try_from(converted).ok()?;
            cost += converted;
        }
        let sell = match self.price_row(ctx, c.service) {
            None => cost,
            Some(p) => {
                let pct = p.markup_percent;
                let by_percent = crate::money::div_round_half_away(
                    mul_exact(cost, pct.mantissa())?,
                    pow10_i128(pct.scale() + 2)?,
                );
                let fixed = match p.fx_id {
                    None => 0,
                    Some(from) => self.fx.convert(
                        p.markup_fixed.mantissa(),
                        p.markup_fixed.scale(),
                        from,
                        ctx.quote_fx,
                    )?,
                };
                cost.checked_add(by_percent)?.checked_add(fixed)?
            }
        };
        self.push_option(
            c,
            i64::try_from(cost).ok()?,
            i64::try_from(sell).ok()?,
            first_line,
            out,
        );
        Some(())
    }

    pub(crate) fn push_option(
        &self,
        c: &Candidate,
        cost: i64,
        sell: i64,
        first_line: u32,
        out: &mut Quote,
    ) {
        out.options.push(QuoteOption {
            rank: 0,
            service: c.service,
            sell,
            cost,
            margin: sell - cost,
            chargeable_weight_g: c.chargeable_g,
            transit_days_min: c.zone.transit_days_min,
            transit_days_max: c.zone.transit_days_max,
            lines: first_line..out.lines.len() as u32,
            landed_cost: None,
        });
    }

    /// The winning price row for the request's customer: scored customer 4, service 2,
    /// country 1 (the book guarantees the best is unique).
    pub(crate) fn price_row(
        &self,
        ctx: &Context<'_, '_>,
        service: u32,
    ) -> Option<&crate::book::Price> {
        let dest = ctx.req.dest_country;
        let row = ctx
            .customer_prices
            .and_then(|t| t.best(service, dest))
            .or_else(|| self.price_any_customer.best(service, dest))?;
        Some(&self.prices[row as usize])
    }

    /// Calls `f` with every surcharge that applies, in table order, reading only the rows
    /// valid on the ship date (the index of `dated.rs`). The same rows as
    /// [`Book::applicable_surcharges`], which the exact path keeps as the definition.
    fn surcharges_on_date(
        &self,
        ctx: &Context<'_, '_>,
        s: &Service,
        chargeable_g: u64,
        segments: &mut SegmentCache,
        mut f: impl FnMut(&Surcharge),
    ) {
        let date = ctx.req.ship_date;
        let index = &self.dated_surcharges;
        let [any_undated, any_dated] = index.rows_on(s.dated_any_country, date, segments);
        let [country_undated, country_dated] =
            match s.dated_countries.binary_search(&ctx.req.dest_country) {
                Ok(i) => index.rows_on(s.dated_by_country[i], date, segments),
                Err(_) => [&[][..], &[][..]],
            };
        let mut lists = [any_undated, any_dated, country_undated, country_dated];
        // Four short lists, each in table order: take the smallest head until all are empty.
        loop {
            let mut next: Option<(u32, usize)> = None;
            for (k, list) in lists.iter().enumerate() {
                if let Some(&row) = list.first()
                    && next.is_none_or(|(best, _)| row < best)
                {
                    next = Some((row, k));
                }
            }
            let Some((row, k)) = next else {
                break;
            };
            lists[k] = &lists[k][1..];
            let sur = &self.surcharges[row as usize];
            debug_assert!(
                sur.validity.contains(date),
                "the date index holds valid rows"
            );
            if conditions_hold(sur, ctx, chargeable_g) {
                f(sur);
            }
        }
    }

    /// Calls `f` with every surcharge that applies, in table order: every row of the service
    /// and of `*`, each window tested. The exact path's definition of which rows apply.
    pub(crate) fn applicable_surcharges(
        &self,
        ctx: &Context<'_, '_>,
        s: &Service,
        chargeable_g: u64,
        mut f: impl FnMut(&Surcharge),
    ) {
        let by_country: &[u32] = s
            .surcharges_by_country
            .get(&ctx.req.dest_country)
            .map_or(&[], Vec::as_slice);
        let any_country = &s.surcharges_any_country;
        // Merge two lists of row indices that are each in table order.
        let (mut i, mut j) = (0, 0);
        while i < any_country.len() || j < by_country.len() {
            let take_any =
                j >= by_country.len() || (i < any_country.len() && any_country[i] < by_country[j]);
            let index = if take_any {
                i += 1;
                any_country[i - 1]
            } else {
                j += 1;
                by_country[j - 1]
            };
            let sur = &self.surcharges[index as usize];
            if surcharge_applies(sur, ctx, chargeable_g) {
                f(sur);
            }
        }
    }

    /// Orders the options by the request's strategy and numbers them.
    fn rank(&self, req: &Request, out: &mut Quote) -> Option<()> {
        match req.strategy {
            Strategy::Cheapest => out.options.sort_unstable_by(|a, b| {
                a.sell
                    .cmp(&b.sell)
                    .then(a.transit_days_max.cmp(&b.transit_days_max))
                    .then(a.service.cmp(&b.service))
            }),
            Strategy::Fastest => out.options.sort_unstable_by(|a, b| {
                a.transit_days_max
                    .cmp(&b.transit_days_max)
                    .then(a.transit_days_min.cmp(&b.transit_days_min))
                    .then(a.sell.cmp(&b.sell))
                    .then(a.service.cmp(&b.service))
            }),
            Strategy::BestValue => {
                // sell + value_per_day × transit_days_max, compared exactly at one scale.
                let digits = req.currency.minor_digits();
                let vpd = req.value_per_day;
                let scale = digits.max(vpd.scale());
                let sell_up = pow10_i128(scale - digits)?;
                let vpd_up = vpd
                    .mantissa()
                    .checked_mul(pow10_i128(scale - vpd.scale())?)?;
                let key = |o: &QuoteOption| -> Option<i128> {
                    i128::from(o.sell)
                        .checked_mul(sell_up)?
                        .checked_add(vpd_up.checked_mul(i128::from(o.transit_days_max))?)
                };
                let mut keyed: Vec<(i128, QuoteOption)> = Vec::with_capacity(out.options.len());
                for o in out.options.drain(..) {
                    keyed.push((key(&o)?, o));
                }
                keyed.sort_unstable_by(|(ka, a), (kb, b)| {
                    ka.cmp(kb)
                        .then(a.transit_days_max.cmp(&b.transit_days_max))
                        .then(a.service.cmp(&b.service))
                });
                out.options.extend(keyed.into_iter().map(|(_, o)| o));
            }
        }
        for (i, o) in out.options.iter_mut().enumerate() {
            o.rank = i as u32 + 1;
        }
        Some(())
    }
}

/// Which arithmetic prices the eligible services.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pricer {
    Fast,
    Exact,
}

/// A declared category is accepted when its deciding row allows it; no row refuses it.
fn accepted(rules: Option<&CategoryRules>, service: u32, req: &Request) -> bool {
    rules
        .and_then(|r| r.decide(service, req.dest_country))
        .unwrap_or(false)
}

/// rate-book.md, "Chargeable weight": the largest of actual, volumetric and minimum weight,
/// rounded up to the service's weight step.
pub(crate) fn chargeable_weight_g(
    s: &Service,
    req: &Request,
    volume_mm3: Option<u64>,
    longest_mm: Option<u64>,
) -> u64 {
    let volumetric = match (s.volumetric_divisor, volume_mm3) {
        (Some(divisor), Some(volume)) => {
            let long_enough = s
                .volumetric_min_side_mm
                .is_none_or(|min| longest_mm.is_some_and(|l| l >= min));
            if long_enough {
                volume.div_ceil(divisor)
            } else {
                0
            }
        }
        _ => 0,
    };
    let weight = u64::from(req.weight_g)
        .max(volumetric)
        .max(s.min_chargeable_g.unwrap_or(0));
    weight.div_ceil(s.weight_step_g) * s.weight_step_g
}

/// Whether every condition of a surcharge row holds (its service and country already match).
pub(crate) fn surcharge_applies(sur: &Surcharge, ctx: &Context<'_, '_>, chargeable_g: u64) -> bool {
    sur.validity.contains(ctx.req.ship_date) && conditions_hold(sur, ctx, chargeable_g)
}

/// Whether every condition of a surcharge row but its validity window holds.
#[inline]
fn conditions_hold(sur: &Surcharge, ctx: &Context<'_, '_>, chargeable_g: u64) -> bool {
    let req = ctx.req;
    if let Some(prefix) = &sur.postcode_prefix
        && !req
            .dest_postcode
            .as_ref()
            .is_some_and(|pc| pc.as_str().starts_with(prefix.as_str()))
    {
        return false;
    }
    if let Some(battery) = sur.battery
        && battery != req.battery.is_some()
    {
        return false;
    }
    if sur.incoterm.is_some_and(|i| i != req.incoterm) {
        return false;
    }
    if sur.min_chargeable_g.is_some_and(|min| chargeable_g < min) {
        return false;
    }
    if let Some(min) = sur.min_length_mm
        && ctx.longest_mm.is_none_or(|l| l < min)
    {
        return false;
    }
    true
}

/// One surcharge line in minor units of the service currency (`digits` decimals).
#[inline]
fn surcharge_fast(
    sur: &Surcharge,
    base_minor: i128,
    chargeable_g: i128,
    digits: u32,
) -> Option<i128> {
    let a = sur.amount;
    let (value, scale) = match sur.kind {
        SurchargeKind::Fixed => (a.mantissa(), a.scale()),
        SurchargeKind::PerKg => (mul_exact(a.mantissa(), chargeable_g)?, a.scale() + 3),
        SurchargeKind::PercentOfBase => {
            (mul_exact(base_minor, a.mantissa())?, digits + a.scale() + 2)
        }
    };
    let (value, scale) = match sur.minimum {
        None => (value, scale),
        Some(min) => {
            let common = scale.max(min.scale());
            let v = mul_exact(value, pow10_i128(common - scale)?)?;
            let m = min
                .mantissa()
                .checked_mul(pow10_i128(common - min.scale())?)?;
            (v.max(m), common)
        }
    };
    rescale_round(value, scale, digits)
}
