//! The deterministic structured tensors, `eye` and `dirac`, as PyTorch's `eye_` and `dirac_`
//! define them: a pure function of the element index and the shape.

/// Whether element `index` of a `rows × cols` identity (PyTorch `eye_`) is 1.
#[inline]
pub fn eye_is_one(index: u64, cols: u64) -> bool {
    index / cols == index % cols
}

/// Whether element `index` of a Dirac tensor of `shape` (3 to 5 dims, `(out, in, *kernel)`) with
/// `groups` groups is 1 (PyTorch `dirac_`): in group `g`, out-channel `g·(out/groups) + d` has a 1
/// at in-channel `d` and the centre `k/2` of every kernel dim, for `d < min(out/groups, in)`.
pub fn dirac_is_one(index: u64, shape: &[u64], groups: u64) -> bool {
    let mut rest = index;
    let mut coords = [0u64; 5];
    for (axis, &dim) in shape.iter().enumerate().rev() {
        coords[axis] = rest % dim;
        rest /= dim;
    }
    let out_per_group = shape[0] / groups;
    let d = coords[0] % out_per_group;
    d < out_per_group.min(shape[1])
        && coords[1] == d
        && shape[2..]
            .iter()
            .zip(&coords[2..])
            .all(|(&k, &c)| c == k / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eye_matches_torch_for_rectangular_matrices() {
        // torch.nn.init.eye_(torch.empty(2, 3)) = [[1,0,0],[0,1,0]]
        let ones: Vec<u64> = (0..6).filter(|&i| eye_is_one(i, 3)).collect();
        assert_eq!(ones, [0, 4]);
        // torch.nn.init.eye_(torch.empty(3, 2)) = [[1,0],[0,1],[0,0]]
        let ones: Vec<u64> = (0..6).filter(|&i| eye_is_one(i, 2)).collect();
        assert_eq!(ones, [0, 3]);
    }

    #[test]
    fn dirac_matches_torch() {
        // torch.nn.init.dirac_(torch.empty(4, 2, 3), groups=2): out_per_group 2, min_dim 2:
        // w[0,0,1] = w[1,1,1] = w[2,0,1] = w[3,1,1] = 1.
        let shape = [4, 2, 3];
        let ones: Vec<u64> = (0..24).filter(|&i| dirac_is_one(i, &shape, 2)).collect();
        let flat = |o: u64, i: u64, k: u64| (o * 2 + i) * 3 + k;
        assert_eq!(
            ones,
            [flat(0, 0, 1), flat(1, 1, 1), flat(2, 0, 1), flat(3, 1, 1)]
        );
        // 4-D, more in-channels than out: (2, 3, 3, 3), groups 1: w[0,0,1,1] = w[1,1,1,1] = 1.
        let shape = [2, 3, 3, 3];
        let ones: Vec<u64> = (0..54).filter(|&i| dirac_is_one(i, &shape, 1)).collect();
        let flat = |o: u64, i: u64| (o * 3 + i) * 9 + 4;
        assert_eq!(ones, [flat(0, 0), flat(1, 1)]);
    }
}
