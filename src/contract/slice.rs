//! Which elements of a tensor a fill computes: a [`Slice`] (one range per dimension, the box
//! `t[a0:b0, a1:b1, …]` that a tensor- or data-parallel rank holds) and the strided [`Rows`] it
//! lies in memory as. A value still depends only on its element index in the whole tensor; these
//! types only say which indices, and in what order they are stored (row-major within the slice).

use std::ops::Range;

use crate::error::{Error, Result};

/// Elements `first + r·stride + c` of a tensor's row-major flattening, for `r < rows` and
/// `c < len`, stored in that order: a box of rows of equal length. One contiguous range is one
/// row (`rows == 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    /// Index of the first element.
    pub first: u64,
    /// How many rows.
    pub rows: u64,
    /// Elements per row.
    pub len: u64,
    /// Elements from one row's start to the next's (≥ `len` when `rows > 1`).
    pub stride: u64,
}

impl From<Range<u64>> for Rows {
    /// The contiguous range as one row.
    fn from(range: Range<u64>) -> Self {
        Rows {
            first: range.start,
            rows: 1,
            len: range.end.saturating_sub(range.start),
            stride: 0,
        }
    }
}

impl Rows {
    /// Elements held.
    pub fn numel(&self) -> u64 {
        self.rows * self.len
    }

    /// The whole-tensor index of element `k` of these rows.
    pub fn index(&self, k: u64) -> u64 {
        self.first + (k / self.len) * self.stride + k % self.len
    }

    /// Row `r` as a contiguous range of the tensor.
    pub fn row(&self, r: u64) -> Range<u64> {
        let start = self.first + r * self.stride;
        start..start + self.len
    }

    /// The same elements in order, in pieces of at most `max` elements each: runs of whole rows,
    /// or, where one row is longer than `max`, parts of a single row.
    pub fn pieces(&self, max: u64) -> Vec<Rows> {
        let max = max.max(1);
        if self.len > max || self.rows == 1 {
            let mut out = Vec::new();
            for r in 0..self.rows {
                let row = self.row(r);
                let mut start = row.start;
                while start < row.end {
                    let end = row.end.min(start + max);
                    out.push(Rows::from(start..end));
                    start = end;
                }
            }
            return out;
        }
        let per_piece = max / self.len.max(1);
        (0..self.rows)
            .step_by(per_piece as usize)
            .map(|r| Rows {
                first: self.first + r * self.stride,
                rows: per_piece.min(self.rows - r),
                ..*self
            })
            .collect()
    }
}

/// One range per dimension of a tensor of `shape`: the box `t[a0:b0, a1:b1, …]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// The whole tensor's shape.
    pub shape: Vec<u64>,
    /// The range held of each dimension.
    pub ranges: Vec<Range<u64>>,
}

impl Slice {
    /// All of a tensor of `shape`.
    pub fn whole(shape: &[u64]) -> Slice {
        Slice {
            shape: shape.to_vec(),
            ranges: shape.iter().map(|&d| 0..d).collect(),
        }
    }

    /// `ranges` of a tensor of `shape`, one per dimension, each within its dimension.
    pub fn new(shape: &[u64], ranges: Vec<Range<u64>>) -> Result<Slice> {
        let fits = ranges.len() == shape.len()
            && ranges
                .iter()
                .zip(shape)
                .all(|(r, &d)| r.start <= r.end && r.end <= d);
        if !fits {
            return Err(Error::invalid(
                "slice",
                format!("{ranges:?}"),
                format!("one range per dimension of {shape:?}, each within it"),
            ));
        }
        Ok(Slice {
            shape: shape.to_vec(),
            ranges,
        })
    }

    /// The shape of the part held.
    pub fn local_shape(&self) -> Vec<u64> {
        self.ranges.iter().map(|r| r.end - r.start).collect()
    }

    /// Elements held.
    pub fn numel(&self) -> u64 {
        self.local_shape().iter().product()
    }

    /// Whether it holds the whole tensor.
    pub fn is_whole(&self) -> bool {
        self.ranges
            .iter()
            .zip(&self.shape)
            .all(|(r, &d)| r.start == 0 && r.end == d)
    }

    /// Where the elements lie in the tensor's row-major flattening, in the slice's own row-major
    /// order: as few [`Rows`] as the box allows (one, unless a whole dimension precedes two
    /// partial ones). An empty slice has none.
    pub fn rows(&self) -> Vec<Rows> {
        if self.numel() == 0 {
            return Vec::new();
        }
        // Dimensions from the last partial one on are contiguous: one run of `len` elements.
        let partial = |(r, &d): (&Range<u64>, &u64)| r.start != 0 || r.end != d;
        let Some(last) = self.ranges.iter().zip(&self.shape).rposition(partial) else {
            return vec![Rows::from(0..self.shape.iter().product())];
        };
        let inner: u64 = self.shape[last + 1..].iter().product();
        let len = (self.ranges[last].end - self.ranges[last].start) * inner;
        let stride = self.shape[last] * inner;
        // Runs step by `stride` through the whole dimensions just before `last` and the partial
        // one before those; the dimensions before that one each start a new `Rows`.
        let mut rows_dim = last;
        let mut rows = 1u64;
        while rows_dim > 0 {
            rows_dim -= 1;
            let range = &self.ranges[rows_dim];
            rows *= range.end - range.start;
            if partial((range, &self.shape[rows_dim])) {
                break;
            }
        }
        // Strides (in elements) of each dimension.
        let mut strides = vec![1u64; self.shape.len()];
        for d in (0..self.shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * self.shape[d + 1];
        }
        let start_of_rows: u64 = (rows_dim..=last)
            .map(|d| self.ranges[d].start * strides[d])
            .sum();
        // Every combination of the dimensions before `rows_dim`, in row-major order.
        let outer = &self.ranges[..rows_dim];
        let outer_count: u64 = outer.iter().map(|r| r.end - r.start).product();
        (0..outer_count)
            .map(|mut k| {
                let mut first = start_of_rows;
                for d in (0..rows_dim).rev() {
                    let extent = outer[d].end - outer[d].start;
                    first += (outer[d].start + k % extent) * strides[d];
                    k /= extent;
                }
                Rows {
                    first,
                    rows,
                    len,
                    stride,
                }
            })
            .collect()
    }

    /// The whole-tensor index of element `k` of the slice (row-major within the slice).
    pub fn index(&self, mut k: u64) -> u64 {
        let mut index = 0u64;
        let mut stride = 1u64;
        for (range, &d) in self.ranges.iter().zip(&self.shape).rev() {
            let extent = range.end - range.start;
            index += (range.start + k % extent.max(1)) * stride;
            k /= extent.max(1);
            stride *= d;
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every slice of small shapes: its rows list exactly its elements, in its own order.
    #[test]
    fn rows_hold_the_slice_elements_in_order() {
        let shapes: [&[u64]; 5] = [&[7], &[5, 6], &[3, 4, 5], &[2, 3, 2, 3], &[]];
        for shape in shapes {
            let ranges_of = |d: u64| -> Vec<Range<u64>> {
                (0..=d).flat_map(|a| (a..=d).map(move |b| a..b)).collect()
            };
            let mut all: Vec<Vec<Range<u64>>> = vec![Vec::new()];
            for &d in shape {
                all = all
                    .into_iter()
                    .flat_map(|prefix| {
                        ranges_of(d).into_iter().map(move |r| {
                            let mut p = prefix.clone();
                            p.push(r);
                            p
                        })
                    })
                    .collect();
            }
            for ranges in all {
                let slice = Slice::new(shape, ranges.clone()).unwrap();
                let expected: Vec<u64> = (0..slice.numel()).map(|k| slice.index(k)).collect();
                // Brute force: every index of the tensor whose coordinates lie in the ranges.
                let numel: u64 = shape.iter().product();
                let inside: Vec<u64> = (0..numel)
                    .filter(|&i| {
                        let mut rest = i;
                        shape.iter().zip(&ranges).rev().all(|(&d, r)| {
                            let c = rest % d;
                            rest /= d;
                            r.contains(&c)
                        })
                    })
                    .collect();
                assert_eq!(expected, inside, "{shape:?} {ranges:?}");
                let from_rows: Vec<u64> = slice
                    .rows()
                    .iter()
                    .flat_map(|rows| (0..rows.numel()).map(|k| rows.index(k)))
                    .collect();
                assert_eq!(from_rows, inside, "{shape:?} {ranges:?}");
                for max in [1, 2, 3, 7, 100] {
                    let pieces: Vec<u64> = slice
                        .rows()
                        .iter()
                        .flat_map(|rows| rows.pieces(max))
                        .inspect(|piece| assert!(piece.numel() <= max))
                        .flat_map(|p| (0..p.numel()).map(move |k| p.index(k)))
                        .collect();
                    assert_eq!(pieces, inside, "{shape:?} {ranges:?} max {max}");
                }
            }
        }
    }

    #[test]
    fn a_column_block_is_one_rows() {
        let slice = Slice::new(&[4096, 14336], vec![0..4096, 1792..3584]).unwrap();
        assert_eq!(
            slice.rows(),
            vec![Rows {
                first: 1792,
                rows: 4096,
                len: 1792,
                stride: 14336
            }]
        );
        assert!(Slice::new(&[4, 4], vec![0..5, 0..4]).is_err());
        let one_range = std::iter::once(0..4).collect();
        assert!(Slice::new(&[4, 4], one_range).is_err());
    }
}
