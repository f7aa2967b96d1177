//! A spatial index of sites (`rstar` R-tree over longitude/latitude) for "stations near me".
//! Distances are great-circle (haversine) kilometres; the tree narrows the search to a
//! bounding box first, so thousands of stations cost microseconds.

use chargegrid_core::network::Site;
use geo::{Distance, Haversine, Point};
use rstar::RTree;
use rstar::primitives::GeomWithData;

type Entry = GeomWithData<[f64; 2], usize>;

/// Sites by location.
#[derive(Debug)]
pub(crate) struct StationIndex {
    tree: RTree<Entry>,
    sites: Vec<Site>,
}

/// A site within reach, with its distance.
#[derive(Debug, Clone)]
pub(crate) struct Nearby<'a> {
    pub site: &'a Site,
    pub distance_km: f64,
}

impl StationIndex {
    /// Builds the index.
    pub fn new(sites: Vec<Site>) -> Self {
        let entries = sites
            .iter()
            .enumerate()
            .map(|(i, s)| GeomWithData::new([s.location.lon(), s.location.lat()], i))
            .collect();
        Self {
            tree: RTree::bulk_load(entries),
            sites,
        }
    }

    /// Sites within `radius_km` of (`lat`, `lon`), nearest first.
    pub fn within(&self, lat: f64, lon: f64, radius_km: f64) -> Vec<Nearby<'_>> {
        let here = Point::new(lon, lat);
        let dlat = radius_km / 110.574;
        let dlon = radius_km / (111.320 * lat.to_radians().cos().abs().max(0.01));
        let envelope =
            rstar::AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
        let mut found: Vec<Nearby<'_>> = self
            .tree
            .locate_in_envelope(&envelope)
            .map(|e| &self.sites[e.data])
            .map(|site| Nearby {
                site,
                distance_km: Haversine.distance(here, site.location.point()) / 1000.0,
            })
            .filter(|n| n.distance_km <= radius_km)
            .collect();
        found.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::limits::Limit;
    use chargegrid_core::network::Location;
    use chargegrid_core::{SiteId, Watts};

    fn site(id: &str, lat: f64, lon: f64) -> Site {
        Site {
            tariff: None,
            supply: None,
            id: SiteId::new(id).unwrap(),
            name: id.into(),
            location: Location::new(lat, lon).unwrap(),
            timezone: "Asia/Shanghai".into(),
            grid_limit: Limit::power(Watts(1.0)),
            limit_groups: vec![],
            price_per_kwh: None,
            currency: "CNY".into(),
        }
    }

    #[test]
    fn finds_sites_in_radius_nearest_first() {
        // May Fourth Square, Laoshan (about 8 km east), Huangdao (about 22 km south-west).
        let index = StationIndex::new(vec![
            site("laoshan", 36.1075, 120.4686),
            site("may4", 36.0617, 120.3842),
            site("huangdao", 35.9607, 120.1953),
        ]);
        let near = index.within(36.0617, 120.3842, 10.0);
        let ids: Vec<&str> = near.iter().map(|n| n.site.id.as_str()).collect();
        assert_eq!(ids, ["may4", "laoshan"]);
        assert!(near[0].distance_km < 0.01);
        assert!(
            (8.0..10.0).contains(&near[1].distance_km),
            "{}",
            near[1].distance_km
        );
        assert_eq!(index.within(36.0617, 120.3842, 30.0).len(), 3);
        assert!(index.within(0.0, 0.0, 50.0).is_empty());
    }
}
