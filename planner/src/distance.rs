//! NUMA distances: the SLIT matrix (ACPI 6.5 §5.2.17 System Locality
//! Information Table), from a matrix, from pairs, or the default.
//!
//! Linux (`drivers/acpi/numa/srat.c` `slit_valid`) ignores a SLIT whose
//! diagonal is not 10 or whose off-diagonal entries are 10 or less.

/// Distance of a node to itself.
pub const LOCAL: u8 = 10;
/// Default distance between distinct nodes (as QEMU and Linux default to).
pub const REMOTE_DEFAULT: u8 = 20;

/// The default matrix: 10 on the diagonal, 20 elsewhere.
#[must_use]
pub fn default_matrix(nodes: usize) -> Vec<Vec<u8>> {
    (0..nodes)
        .map(|i| {
            (0..nodes)
                .map(|j| if i == j { LOCAL } else { REMOTE_DEFAULT })
                .collect()
        })
        .collect()
}

/// Fills a matrix from directed pairs: a pair given one way holds both ways
/// unless the reverse is given too. Returns the matrix (0 where nothing was
/// given) and the unordered pairs of distinct nodes left without a distance.
#[must_use]
pub fn from_pairs(
    nodes: usize,
    pairs: &[(usize, usize, u8)],
) -> (Vec<Vec<u8>>, Vec<(usize, usize)>) {
    let mut m = vec![vec![0u8; nodes]; nodes];
    let mut given = vec![vec![false; nodes]; nodes];
    for &(from, to, d) in pairs {
        m[from][to] = d;
        given[from][to] = true;
    }
    for &(from, to, d) in pairs {
        if !given[to][from] {
            m[to][from] = d;
        }
    }
    for (i, row) in m.iter_mut().enumerate() {
        if row[i] == 0 {
            row[i] = LOCAL;
        }
    }
    let missing = (0..nodes)
        .flat_map(|i| (i + 1..nodes).map(move |j| (i, j)))
        .filter(|&(i, j)| m[i][j] == 0)
        .collect();
    (m, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_default_matrix() {
        assert_eq!(default_matrix(2), vec![vec![10, 20], vec![20, 10]]);
    }

    #[test]
    fn test_pair_one_way_is_symmetric() {
        let (m, missing) = from_pairs(2, &[(0, 1, 21)]);
        assert_eq!(m, vec![vec![10, 21], vec![21, 10]]);
        assert!(missing.is_empty());
    }

    #[test]
    fn test_pair_both_ways_may_differ() {
        let (m, _) = from_pairs(2, &[(0, 1, 21), (1, 0, 31)]);
        assert_eq!(m, vec![vec![10, 21], vec![31, 10]]);
    }

    #[test]
    fn test_missing_pairs_are_reported() {
        let (_, missing) = from_pairs(3, &[(0, 1, 20)]);
        assert_eq!(missing, vec![(0, 2), (1, 2)]);
    }
}
