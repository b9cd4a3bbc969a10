//! The columns of a bulk file (quote-api.md, "Bulk files"): names, kinds, which are required.

use crossdock_tables::columns::Kind;

/// The input columns, in the order quote-api.md lists them. `Col as usize` indexes a row's
/// cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Col {
    Id,
    Customer,
    ShipDate,
    OriginCountry,
    OriginPostcode,
    DestCountry,
    DestPostcode,
    WeightG,
    LengthMm,
    WidthMm,
    HeightMm,
    ValueAmount,
    ValueCurrency,
    Battery,
    Goods,
    Incoterm,
    TrackedRequired,
    MaxTransitDays,
    Currency,
}

/// How many input columns there are.
pub(crate) const COLUMNS: usize = 19;

impl Col {
    pub(crate) const ALL: [Col; COLUMNS] = [
        Col::Id,
        Col::Customer,
        Col::ShipDate,
        Col::OriginCountry,
        Col::OriginPostcode,
        Col::DestCountry,
        Col::DestPostcode,
        Col::WeightG,
        Col::LengthMm,
        Col::WidthMm,
        Col::HeightMm,
        Col::ValueAmount,
        Col::ValueCurrency,
        Col::Battery,
        Col::Goods,
        Col::Incoterm,
        Col::TrackedRequired,
        Col::MaxTransitDays,
        Col::Currency,
    ];

    /// The column's name in files, and the field name of its problems.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Col::Id => "id",
            Col::Customer => "customer",
            Col::ShipDate => "ship_date",
            Col::OriginCountry => "origin_country",
            Col::OriginPostcode => "origin_postcode",
            Col::DestCountry => "dest_country",
            Col::DestPostcode => "dest_postcode",
            Col::WeightG => "weight_g",
            Col::LengthMm => "length_mm",
            Col::WidthMm => "width_mm",
            Col::HeightMm => "height_mm",
            Col::ValueAmount => "value_amount",
            Col::ValueCurrency => "value_currency",
            Col::Battery => "battery",
            Col::Goods => "goods",
            Col::Incoterm => "incoterm",
            Col::TrackedRequired => "tracked_required",
            Col::MaxTransitDays => "max_transit_days",
            Col::Currency => "currency",
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Col::ShipDate => Kind::Date,
            Col::WeightG | Col::LengthMm | Col::WidthMm | Col::HeightMm | Col::MaxTransitDays => Kind::Whole,
            Col::ValueAmount => Kind::Money,
            Col::TrackedRequired => Kind::Bool,
            _ => Kind::Text,
        }
    }

    /// A file without one of these columns is refused whole; any other may be absent.
    pub(crate) fn required(&self) -> bool {
        matches!(self, Col::Id | Col::OriginCountry | Col::DestCountry | Col::WeightG)
    }

    pub(crate) fn by_name(name: &str) -> Option<Col> {
        Col::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Where each input column is in a file: its position among the file's columns, if present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ColumnMap(pub [Option<usize>; COLUMNS]);

/// Why a file's header cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    Missing(&'static str),
    Duplicate(&'static str),
}

impl ColumnMap {
    /// Maps a header; unknown names are ignored. With `strict`, a missing required column or a
    /// known column named twice is refused; otherwise the first of duplicates wins and missing
    /// columns read as empty (so each row names what it lacks).
    pub(crate) fn from_names<'n>(names: impl IntoIterator<Item = &'n str>, strict: bool) -> Result<ColumnMap, HeaderProblem> {
        let mut map = [None; COLUMNS];
        for (position, name) in names.into_iter().enumerate() {
            // Excel writes a byte-order mark before the first name.
            let name = if position == 0 { name.trim_start_matches('\u{feff}') } else { name };
            let Some(col) = Col::by_name(name) else { continue };
            let slot = &mut map[col as usize];
            match slot {
                None => *slot = Some(position),
                Some(_) if strict => return Err(HeaderProblem::Duplicate(col.name())),
                Some(_) => {}
            }
        }
        if strict && let Some(missing) = Col::ALL.into_iter().find(|c| c.required() && map[*c as usize].is_none()) {
            return Err(HeaderProblem::Missing(missing.name()));
        }
        Ok(ColumnMap(map))
    }

    pub(crate) fn get(&self, col: Col) -> Option<usize> {
        self.0[col as usize]
    }
}

/// The output columns, in order.
pub(crate) const OUTPUT_COLUMNS: [&str; 13] = [
    "id",
    "status",
    "service",
    "carrier",
    "currency",
    "sell",
    "cost",
    "margin",
    "chargeable_weight_g",
    "transit_days_min",
    "transit_days_max",
    "reasons",
    "problems",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_found_by_its_name() {
        for (i, col) in Col::ALL.into_iter().enumerate() {
            assert_eq!(col as usize, i);
            assert_eq!(Col::by_name(col.name()), Some(col));
        }
    }

    #[test]
    fn headers_map_known_columns_and_name_what_is_missing() {
        let map = ColumnMap::from_names(["\u{feff}id", "extra", "weight_g", "dest_country", "origin_country"], true).unwrap();
        assert_eq!(map.get(Col::Id), Some(0));
        assert_eq!(map.get(Col::WeightG), Some(2));
        assert_eq!(map.get(Col::Customer), None);
        assert_eq!(ColumnMap::from_names(["id", "origin_country", "dest_country"], true), Err(HeaderProblem::Missing("weight_g")));
        assert_eq!(ColumnMap::from_names(["id", "id", "origin_country", "dest_country", "weight_g"], true), Err(HeaderProblem::Duplicate("id")));
        assert!(ColumnMap::from_names(["id"], false).is_ok());
    }
}
