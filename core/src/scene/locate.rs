//! Finds where a value sits in JSON source text, so that an error found
//! after parsing (an unknown tile, a spawn inside a wall) can still name a
//! line and column. `serde_json` gives positions only for syntax errors.

/// One step of a path into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(k: &str) -> Seg {
        Seg::Key(k.to_owned())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Seg {
        Seg::Index(i)
    }
}

/// Renders a path as `npcs[2].waypoints[0]`.
pub fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The byte offset where the value at `path` starts, or where the deepest
/// part of the path that exists starts. Never fails: an empty path or a
/// document it cannot follow gives offset 0.
pub fn locate(src: &str, path: &[Seg]) -> usize {
    let b = src.as_bytes();
    let mut pos = skip_ws(b, 0);
    for seg in path {
        match find_child(b, pos, seg) {
            Some(p) => pos = p,
            None => break,
        }
    }
    pos
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn find_child(b: &[u8], pos: usize, seg: &Seg) -> Option<usize> {
    match (seg, b.get(pos)?) {
        (Seg::Key(key), b'{') => {
            let mut p = pos + 1;
            loop {
                p = skip_ws(b, p);
                if *b.get(p)? != b'"' {
                    return None;
                }
                let end = skip_string(b, p)?;
                let raw = &b[p + 1..end - 1];
                p = skip_ws(b, end);
                if *b.get(p)? != b':' {
                    return None;
                }
                p = skip_ws(b, p + 1);
                if raw == key.as_bytes() {
                    return Some(p);
                }
                p = skip_ws(b, skip_value(b, p)?);
                if *b.get(p)? != b',' {
                    return None;
                }
                p += 1;
            }
        }
        (Seg::Index(index), b'[') => {
            let mut p = pos + 1;
            for n in 0.. {
                p = skip_ws(b, p);
                if *b.get(p)? == b']' {
                    return None;
                }
                if n == *index {
                    return Some(p);
                }
                p = skip_ws(b, skip_value(b, p)?);
                if *b.get(p)? != b',' {
                    return None;
                }
                p += 1;
            }
            None
        }
        _ => None,
    }
}

fn skip_ws(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && b[p].is_ascii_whitespace() {
        p += 1;
    }
    p
}

/// `p` is at an opening quote; returns the offset just past the closing one.
fn skip_string(b: &[u8], p: usize) -> Option<usize> {
    let mut i = p + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn skip_value(b: &[u8], p: usize) -> Option<usize> {
    match *b.get(p)? {
        b'"' => skip_string(b, p),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = p;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = p;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']') && !b[i].is_ascii_whitespace()
            {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"a\": [1, {\"b\": \"x,]\"}, 3],\n  \"c\": {\"d\": [\"p\", \"q\"]}\n}";

    fn at(path: &[Seg]) -> (usize, usize) {
        line_col(DOC, locate(DOC, path))
    }

    #[test]
    fn finds_nested_values() {
        assert_eq!(at(&["a".into(), 2.into()]), (2, 26));
        assert_eq!(at(&["a".into(), 1.into(), "b".into()]), (2, 18));
        assert_eq!(at(&["c".into(), "d".into(), 1.into()]), (3, 20));
    }

    #[test]
    fn missing_parts_stop_at_the_deepest_found() {
        assert_eq!(at(&["c".into(), "zzz".into()]), (3, 8));
        assert_eq!(at(&["a".into(), 9.into()]), (2, 8));
    }

    #[test]
    fn path_display() {
        assert_eq!(
            display_path(&["npcs".into(), 2.into(), "at".into()]),
            "npcs[2].at"
        );
    }
}
