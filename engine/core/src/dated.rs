//! Surcharge rows indexed by ship date, so a quote reads only the rows valid on its date.
//!
//! A service's surcharge rows (its own and those of service `*`) come as lists in table
//! order: one without a country condition, one per country. Many rows are dated: a book
//! carries a year or two of weekly `FUEL` rows, of which one applies on any ship date. Walking
//! every row and testing its window was the largest single cost of a quote.
//!
//! Each list is compiled into
//! - its *undated* rows (no `valid_from`, no `valid_to`): valid on every date, held once;
//! - its *dated* rows, split at every bound of their windows into *segments*: between two
//!   consecutive bounds no window opens or closes, so each segment holds exactly the dated
//!   rows valid on all of its days, in table order.
//!
//! The sorted bounds of a list form its *partition*. Lists with the same bounds (every
//! service's list inherits the `*` rows' weekly bounds) share one interned partition, so a
//! quote finds its segment of a partition with one binary search, once per quote
//! ([`SegmentCache`]), not once per service.
//!
//! Memory: each dated row is held once per segment it spans, undated rows once. On the
//! synthetic book (104 weekly `FUEL` rows merged into each of 200 services) that is a few
//! hundred kilobytes.
//!
//! The exact-decimal path does not use this index: it walks the plain lists and tests each
//! window, so the property tests compare the index against the definition.

use crate::book::Surcharge;
use crate::codes::{Date, Validity};
use std::collections::HashMap;

/// One list of surcharge rows, as the index holds it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DatedList {
    /// The undated rows: `DatedSurcharges::rows[undated_start..undated_end]`.
    undated_start: u32,
    undated_end: u32,
    /// Index into `DatedSurcharges::partitions`, or [`UNDATED`] for a list without dated
    /// rows (no bounds, nothing to look up).
    partition: u32,
    /// Segment `s` holds `rows[starts[first + s]..starts[first + s + 1]]`; a partition of
    /// `n` bounds has `n + 1` segments.
    first: u32,
}

/// Every service's surcharge lists split by date, in three flat arrays.
#[derive(Debug)]
pub(crate) struct DatedSurcharges {
    /// Sorted, distinct window bounds of each interned partition.
    partitions: Vec<Box<[Date]>>,
    starts: Vec<u32>,
    rows: Vec<u32>,
}

/// The partition of lists without dated rows.
const UNDATED: u32 = u32::MAX;

/// Per quote: the segment of each partition the ship date falls in, found on first use.
/// Books have few partitions (one per distinct set of bounds), so the first ones are held
/// inline: a quote with a fresh `Scratch` allocates nothing for them.
#[derive(Debug)]
pub(crate) struct SegmentCache {
    inline: [u32; INLINE],
    more: Vec<u32>,
}

const INLINE: usize = 4;

/// Marks a partition whose segment this quote has not looked up yet.
const UNRESOLVED: u32 = u32::MAX;

impl Default for SegmentCache {
    fn default() -> Self {
        SegmentCache {
            inline: [UNRESOLVED; INLINE],
            more: Vec::new(),
        }
    }
}

impl SegmentCache {
    /// Forgets the previous quote's segments; `partitions` is the book's partition count.
    pub fn reset(&mut self, partitions: usize) {
        self.inline = [UNRESOLVED; INLINE];
        self.more.clear();
        self.more
            .resize(partitions.saturating_sub(INLINE), UNRESOLVED);
    }

    fn slot(&mut self, partition: usize) -> Option<&mut u32> {
        match partition.checked_sub(INLINE) {
            None => self.inline.get_mut(partition),
            Some(i) => self.more.get_mut(i),
        }
    }
}

/// Builds the index list by list, interning partitions.
#[derive(Debug)]
pub(crate) struct DatedBuilder<'s> {
    surcharges: &'s [Surcharge],
    out: DatedSurcharges,
    interned: HashMap<Box<[Date]>, u32>,
}

impl<'s> DatedBuilder<'s> {
    pub fn new(surcharges: &'s [Surcharge]) -> Self {
        DatedBuilder {
            surcharges,
            out: DatedSurcharges {
                partitions: Vec::new(),
                starts: Vec::new(),
                rows: Vec::new(),
            },
            interned: HashMap::new(),
        }
    }

    /// Indexes one list of row indices in table order.
    pub fn add(&mut self, list: &[u32]) -> DatedList {
        let window = |i: u32| self.surcharges[i as usize].validity;
        let undated_start = self.out.rows.len() as u32;
        self.out.rows.extend(
            list.iter()
                .copied()
                .filter(|&i| window(i) == Validity::default()),
        );
        let undated_end = self.out.rows.len() as u32;

        let dated: Vec<u32> = list
            .iter()
            .copied()
            .filter(|&i| window(i) != Validity::default())
            .collect();
        if dated.is_empty() {
            return DatedList {
                undated_start,
                undated_end,
                partition: UNDATED,
                first: 0,
            };
        }
        let mut bounds: Vec<Date> = dated
            .iter()
            .flat_map(|&i| [window(i).from, window(i).to])
            .flatten()
            .collect();
        bounds.sort_unstable();
        bounds.dedup();
        // Segment s covers [bounds[s - 1], bounds[s]) (unbounded below for s = 0, above for
        // the last). A window [from, to) holds on every day of segment s exactly when
        // from ≤ bounds[s - 1] and bounds[s] ≤ to, i.e. for s in position(from) + 1 ..=
        // position(to), and on no day of the others, because from and to are bounds
        // themselves. Rows are pushed in table order, so each segment stays in table order.
        let position = |d: Date| bounds.partition_point(|b| *b < d);
        let mut spans: Vec<Vec<u32>> = vec![Vec::new(); bounds.len() + 1];
        for &i in &dated {
            let w = window(i);
            let first = w.from.map_or(0, |f| position(f) + 1);
            let end = w.to.map_or(bounds.len() + 1, |t| position(t) + 1);
            for segment in spans.get_mut(first..end).into_iter().flatten() {
                segment.push(i);
            }
        }
        // The segments start after this list's undated rows.
        self.out.starts.push(self.out.rows.len() as u32);
        let first = (self.out.starts.len() - 1) as u32;
        for segment in spans {
            self.out.rows.extend(segment);
            self.out.starts.push(self.out.rows.len() as u32);
        }
        let partition = match self.interned.get(&bounds[..]) {
            Some(&p) => p,
            None => {
                let p = self.out.partitions.len() as u32;
                let bounds: Box<[Date]> = bounds.into();
                self.out.partitions.push(bounds.clone());
                self.interned.insert(bounds, p);
                p
            }
        };
        DatedList {
            undated_start,
            undated_end,
            partition,
            first,
        }
    }

    pub fn finish(self) -> DatedSurcharges {
        self.out
    }
}

impl DatedSurcharges {
    /// Asserts (with debug assertions) that `list` indexes exactly `rows`, a service's plain
    /// list in table order: its undated rows in order, and in each segment the dated rows
    /// valid on the segment's days, in order. The book's `dated index` invariant.
    pub(crate) fn check_list(&self, list: DatedList, rows: &[u32], surcharges: &[Surcharge]) {
        let window = |i: u32| surcharges.get(i as usize).map(|s| s.validity);
        let (undated, dated): (Vec<u32>, Vec<u32>) = rows
            .iter()
            .partition(|&&i| window(i) == Some(Validity::default()));
        let held = self
            .rows
            .get(list.undated_start as usize..list.undated_end as usize);
        debug_assert_eq!(held, Some(&undated[..]), "undated rows");
        if list.partition == UNDATED {
            debug_assert!(dated.is_empty(), "dated rows without a partition");
            return;
        }
        let Some(bounds) = self.partitions.get(list.partition as usize) else {
            debug_assert!(false, "partition {} out of bounds", list.partition);
            return;
        };
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]), "bounds not sorted");
        for segment in 0..=bounds.len() {
            let at = list.first as usize + segment;
            let held = self
                .starts
                .get(at..at + 2)
                .and_then(|s| self.rows.get(s[0] as usize..s[1] as usize));
            // Before the first bound, the rows open from the start; then those valid on the
            // day the segment starts.
            let valid = |i: &&u32| match (segment, window(**i)) {
                (0, Some(w)) => w.from.is_none(),
                (s, Some(w)) => w.contains(bounds[s - 1]),
                (_, None) => false,
            };
            let want: Vec<u32> = dated.iter().filter(valid).copied().collect();
            debug_assert_eq!(held, Some(&want[..]), "segment {segment}");
        }
    }

    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    /// The rows of `list` valid on `date`: its undated rows and its dated rows of the
    /// segment `date` falls in, each slice in table order.
    #[inline]
    pub fn rows_on(&self, list: DatedList, date: Date, cache: &mut SegmentCache) -> [&[u32]; 2] {
        let undated = &self.rows[list.undated_start as usize..list.undated_end as usize];
        if list.partition == UNDATED {
            return [undated, &[]];
        }
        let p = list.partition as usize;
        let segment = match cache.slot(p) {
            Some(slot) if *slot != UNRESOLVED => *slot,
            slot => {
                let s = self.partitions[p].partition_point(|b| *b <= date) as u32;
                if let Some(slot) = slot {
                    *slot = s;
                }
                s
            }
        };
        let at = (list.first + segment) as usize;
        let dated = &self.rows[self.starts[at] as usize..self.starts[at + 1] as usize];
        [undated, dated]
    }
}
