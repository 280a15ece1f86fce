//! Finding and decoding the PEM blocks (RFC 7468) of a file that may hold several of them,
//! e.g. a certificate chain, or `EC PARAMETERS` followed by `EC PRIVATE KEY`.

use zeroize::Zeroizing;

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

/// One `-----BEGIN label----- … -----END label-----` block, undecoded.
pub(crate) struct PemBlock<'a> {
    pub(crate) label: &'a str,
    /// The whole block, boundaries included.
    text: &'a [u8],
}

impl PemBlock<'_> {
    /// Whether the block carries RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`), the legacy
    /// OpenSSL way of encrypting a key inside PEM.
    pub(crate) fn has_legacy_encryption_header(&self) -> bool {
        contains(self.text, b"Proc-Type:") || contains(self.text, b"DEK-Info:")
    }

    /// Decodes the base64 body. Line widths other than 64 are accepted; the output buffer is
    /// allocated once at its final size so no unzeroized copy of a key is left behind.
    pub(crate) fn decode(&self) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut decoder = pem_rfc7468::Decoder::new_detect_wrap(self.text)
            .map_err(|e| format!("{} block: {e}", self.label))?;
        let mut out = Zeroizing::new(Vec::with_capacity(decoder.remaining_len()));
        decoder
            .decode_to_end(&mut out)
            .map_err(|e| format!("{} block: {e}", self.label))?;
        Ok(out)
    }
}

/// Whether `input` looks like PEM rather than DER.
pub(crate) fn is_pem(input: &[u8]) -> bool {
    contains(input, BEGIN)
}

/// All PEM blocks of `input`, in order. Text between blocks is ignored (OpenSSL writes
/// "Bag Attributes" and certificate dumps there).
pub(crate) fn blocks(input: &[u8]) -> Result<Vec<PemBlock<'_>>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = find(input, BEGIN, pos) {
        let label_start = start + BEGIN.len();
        let label_end = find(input, DASHES, label_start)
            .ok_or_else(|| "unterminated `-----BEGIN` line".to_string())?;
        let label = input
            .get(label_start..label_end)
            .and_then(|l| core::str::from_utf8(l).ok())
            .filter(|l| l.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
            .ok_or_else(|| "invalid PEM label".to_string())?;
        let mut end_marker = Vec::with_capacity(label.len() + 14);
        end_marker.extend_from_slice(b"-----END ");
        end_marker.extend_from_slice(label.as_bytes());
        end_marker.extend_from_slice(DASHES);
        let end = find(input, &end_marker, label_end)
            .ok_or_else(|| format!("no `-----END {label}-----` line"))?
            + end_marker.len();
        let text = input
            .get(start..end)
            .ok_or_else(|| "invalid PEM block bounds".to_string())?;
        out.push(PemBlock { label, text });
        pos = end;
    }
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let rest = haystack.get(from..)?;
    if needle.is_empty() || rest.len() < needle.len() {
        return None;
    }
    rest.windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle, 0).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_in_order_and_ignores_text_between() {
        let text = b"junk\n-----BEGIN A-----\nAAEC\n-----END A-----\nmore\r\n\
                     -----BEGIN B C-----\r\nAw==\r\n-----END B C-----\r\n";
        let b = blocks(text).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].label, "A");
        assert_eq!(&b[0].decode().unwrap()[..], &[0, 1, 2]);
        assert_eq!(b[1].label, "B C");
        assert_eq!(&b[1].decode().unwrap()[..], &[3]);
    }

    #[test]
    fn unterminated_block_is_an_error() {
        let err = blocks(b"-----BEGIN CERTIFICATE-----\nAAEC\n")
            .err()
            .unwrap();
        assert_eq!(err, "no `-----END CERTIFICATE-----` line");
    }

    #[test]
    fn bad_base64_is_an_error_not_a_panic() {
        let b = blocks(b"-----BEGIN A-----\n!!!!\n-----END A-----\n").unwrap();
        assert!(b[0].decode().is_err());
    }

    #[test]
    fn long_lines_are_accepted() {
        // 76-column base64, as written by tools that follow MIME rather than RFC 7468.
        let body = "A".repeat(76);
        let text = format!("-----BEGIN X-----\n{body}\n{body}\nAAAA\n-----END X-----\n");
        let b = blocks(text.as_bytes()).unwrap();
        assert_eq!(b[0].decode().unwrap().len(), (76 * 2 + 4) / 4 * 3);
    }
}
