//! The condition language's tokens: numbers, strings, `#rrggbb` colours,
//! words and paths (`npc:3.tile`), operators; errors carry the byte offset.

use std::fmt;

use super::condition::{Op, ParseError};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Num(f64),
    Str(String),
    Colour(String),
    Word(String),
    Op(Op),
    Tilde,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    AndAnd,
    OrOr,
    Bang,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Num(n) => write!(f, "number {n}"),
            Kind::Str(s) => write!(f, "string {s:?}"),
            Kind::Colour(c) => write!(f, "colour {c}"),
            Kind::Word(w) => write!(f, "`{w}`"),
            Kind::Op(op) => write!(
                f,
                "`{}`",
                match op {
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                    Op::Eq => "==",
                    Op::Ne => "!=",
                }
            ),
            Kind::Tilde => f.write_str("`~`"),
            Kind::LParen => f.write_str("`(`"),
            Kind::RParen => f.write_str("`)`"),
            Kind::LBracket => f.write_str("`[`"),
            Kind::RBracket => f.write_str("`]`"),
            Kind::Comma => f.write_str("`,`"),
            Kind::AndAnd => f.write_str("`&&`"),
            Kind::OrOr => f.write_str("`||`"),
            Kind::Bang => f.write_str("`!`"),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) at: usize,
}

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')
}

pub(super) fn lex(text: &str) -> Result<Vec<Token>, ParseError> {
    let err = |message: String, at: usize| ParseError {
        message,
        at,
        text: text.to_owned(),
    };
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let two = text.get(at..at + 2).unwrap_or("");
        let kind = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '"' | '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(err("a string that never ends".into(), at)),
                        Some((_, q)) if q == c => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, e)) => s.push(e),
                            None => return Err(err("a string that never ends".into(), at)),
                        },
                        Some((_, ch)) => s.push(ch),
                    }
                }
                out.push(Token {
                    kind: Kind::Str(s),
                    at,
                });
                continue;
            }
            '#' => {
                chars.next();
                let mut hex = String::new();
                while let Some(&(_, h)) = chars.peek() {
                    if !h.is_ascii_alphanumeric() {
                        break;
                    }
                    hex.push(h);
                    chars.next();
                }
                if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err(
                        format!("a colour is #rrggbb (six hex digits), not #{hex}"),
                        at,
                    ));
                }
                out.push(Token {
                    kind: Kind::Colour(format!("#{}", hex.to_ascii_lowercase())),
                    at,
                });
                continue;
            }
            c if c.is_ascii_digit()
                || (c == '-'
                    && text[at + 1..]
                        .chars()
                        .next()
                        .is_some_and(|d| d.is_ascii_digit() || d == '.')) =>
            {
                let mut end = at + c.len_utf8();
                chars.next();
                while let Some(&(i, d)) = chars.peek() {
                    if !(d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E') {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                let n: f64 = text[at..end]
                    .parse()
                    .map_err(|_| err(format!("`{}` is not a number", &text[at..end]), at))?;
                out.push(Token {
                    kind: Kind::Num(n),
                    at,
                });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = at;
                while let Some(&(i, d)) = chars.peek() {
                    if !word_char(d) {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                let w = &text[at..end];
                if w.ends_with('.') || w.contains("..") {
                    return Err(err(format!("`{w}` is not a path (entity.attribute)"), at));
                }
                out.push(Token {
                    kind: Kind::Word(w.to_owned()),
                    at,
                });
                continue;
            }
            _ => match two {
                "<=" => Kind::Op(Op::Le),
                ">=" => Kind::Op(Op::Ge),
                "==" => Kind::Op(Op::Eq),
                "!=" => Kind::Op(Op::Ne),
                "&&" => Kind::AndAnd,
                "||" => Kind::OrOr,
                _ => match c {
                    '<' => Kind::Op(Op::Lt),
                    '>' => Kind::Op(Op::Gt),
                    '=' => {
                        return Err(err("comparing is `==`, not `=`".into(), at));
                    }
                    '~' => Kind::Tilde,
                    '(' => Kind::LParen,
                    ')' => Kind::RParen,
                    '[' => Kind::LBracket,
                    ']' => Kind::RBracket,
                    ',' => Kind::Comma,
                    '!' => Kind::Bang,
                    other => return Err(err(format!("unexpected `{other}`"), at)),
                },
            },
        };
        let width = match kind {
            Kind::Op(Op::Le | Op::Ge | Op::Eq | Op::Ne) | Kind::AndAnd | Kind::OrOr => 2,
            _ => 1,
        };
        for _ in 0..width {
            chars.next();
        }
        out.push(Token { kind, at });
    }
    Ok(out)
}
