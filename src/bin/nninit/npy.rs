//! NumPy `.npy` files (format version 1.0), the output of `nninit fill --out x.npy`.
//! Format: <https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>.

use std::io::Write;

/// Writes the `.npy` header for a little-endian C-order array of `descr` (`"<f4"`, `"<f2"`, `"<u4"`)
/// with `shape`; the caller writes the `∏shape` elements after it.
pub fn write_header(out: &mut impl Write, descr: &str, shape: &[u64]) -> std::io::Result<()> {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_to_64_bytes_and_describes_the_array() {
        let mut out = Vec::new();
        write_header(&mut out, "<f4", &[64, 128]).unwrap();
        assert_eq!(out.len() % 64, 0);
        assert_eq!(&out[..8], b"\x93NUMPY\x01\x00");
        let text = std::str::from_utf8(&out[10..]).unwrap();
        assert!(text.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (64, 128), }"));
        assert!(text.ends_with('\n'));
        let mut one_dim = Vec::new();
        write_header(&mut one_dim, "<f4", &[7]).unwrap();
        assert!(
            std::str::from_utf8(&one_dim[10..])
                .unwrap()
                .contains("'shape': (7,)")
        );
    }
}
