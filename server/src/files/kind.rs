//! A file's type, decided from its first bytes (magic numbers) only: the
//! name and the declared type are the sender's word, and a page or a script
//! (HTML, SVG) named `.png` must not come back as something a browser runs.

/// The kinds of file a chat may carry: the one list for the code and docs/files.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
}

impl FileKind {
    pub const ALL: [FileKind; 5] = [FileKind::Png, FileKind::Jpeg, FileKind::Gif, FileKind::Webp, FileKind::Pdf];

    /// The type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// The kind of a stored type (what a link records), if it is one.
    pub fn of_content_type(content_type: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.content_type() == content_type)
    }

    /// Images are shown in the chat (inline); anything else is a download.
    pub fn is_image(self) -> bool {
        self != FileKind::Pdf
    }

    /// The kind the bytes begin like, or `None`: refused.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(FileKind::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(FileKind::Webp)
        } else if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(FileKind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"GIF89a.."), Some(FileKind::Gif));
        assert_eq!(FileKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(FileKind::sniff(b"%PDF-1.7"), Some(FileKind::Pdf));
        for refused in [&b"<svg xmlns='http://www.w3.org/2000/svg'><script>"[..], b"<!DOCTYPE html>", b"", b"RIFF"] {
            assert_eq!(FileKind::sniff(refused), None);
        }
    }

    #[test]
    fn every_kind_round_trips_its_content_type() {
        for kind in FileKind::ALL {
            assert_eq!(FileKind::of_content_type(kind.content_type()), Some(kind));
        }
    }
}
