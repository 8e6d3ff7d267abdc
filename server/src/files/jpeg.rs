//! Takes location data out of a JPEG without decoding it: the APP1 segments
//! (Exif, where cameras and phones put GPS position, and XMP, which may
//! repeat it) are dropped and every other byte is kept as it was. Re-encoding
//! would lose quality and needs an image codec; segments are all that is needed.

const SOI: [u8; 2] = [0xFF, 0xD8];
/// Start of scan: compressed data follows to the end, no more segments to read.
const SOS: u8 = 0xDA;
const APP1: u8 = 0xE1;

/// The JPEG without its APP1 segments, or `None` when the segment structure
/// is broken (then the file is refused rather than stored with what it hid).
pub fn strip_location(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&SOI) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&SOI);
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        // Any number of 0xFF fill bytes may come before a marker.
        while *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        let marker = bytes[at + 1];
        if standalone(marker) {
            out.extend_from_slice(&bytes[at..at + 2]);
            at += 2;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at + 2)?, *bytes.get(at + 3)?]));
        let end = at + 2 + length;
        if length < 2 || end > bytes.len() {
            return None;
        }
        if marker == SOS {
            out.extend_from_slice(&bytes[at..]);
            return Some(out);
        }
        if marker != APP1 {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
    }
}

/// Markers without a length: TEM, RST0..RST7, and SOI/EOI.
fn standalone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    #[test]
    fn app1_goes_and_everything_else_stays() {
        let jfif = segment(0xE0, b"JFIF\0\x01\x01");
        let exif = segment(APP1, b"Exif\0\0GPS 31.2N 121.5E");
        let table = segment(0xDB, &[0; 65]);
        let scan = [segment(SOS, &[1, 2, 3]), vec![0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9]].concat();
        let photo = [SOI.to_vec(), jfif.clone(), exif, table.clone(), scan.clone()].concat();
        let kept = strip_location(&photo).unwrap();
        assert_eq!(kept, [SOI.to_vec(), jfif, table, scan].concat());
        assert!(!kept.windows(4).any(|w| w == b"Exif"));
    }

    #[test]
    fn a_broken_structure_is_refused() {
        assert_eq!(strip_location(b"\xFF\xD8\xFF\xE1\xFF\xFF"), None);
        assert_eq!(strip_location(b"\xFF\xD8garbage"), None);
        assert_eq!(strip_location(b"not a jpeg"), None);
    }
}
