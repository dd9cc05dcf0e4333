//! Conditions for `engine.run_until` and `engine.watch`: a small
//! expression language over what any game answers (docs/debugging.md).
//!
//! ```text
//! player.hp < 10                  an entity attribute (world.get / world.entities)
//! npc:3.tile == [4, 5]            arrays, strings, numbers, true/false/null
//! door.open changed               differs from the tick before
//! log ~ "bridge"                  a log line or world event of this tick contains it
//! frame changed                   the frame's content hash differs from the tick before
//! pixel(10, 20) != #000000        a frame pixel, as #rrggbb
//! tick >= 500 and not (player.hp > 3 or frame changed)
//! ```
//!
//! [`Condition::parse`] is a pure function; its errors carry the byte
//! offset they point at. [`Condition::eval`] reads a [`Sample`]: what
//! the host gathered at one tick.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value as Json};

use super::lex::{Kind, Token, lex};
use crate::state::Flat;

/// A parsed condition and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Term, Op, Term),
    Changed(Term),
    Contains(Term, String),
    Truthy(Term),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Lit(Json),
    /// `entity.attr.sub`: a key of the flattened entities.
    Path(String),
    Pixel(u32, u32),
    Frame,
    Tick,
    Log,
}

/// Where a condition could not be parsed, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {}:\n  {text}\n  {}^", .at + 1, " ".repeat(*.at))]
pub struct ParseError {
    pub message: String,
    /// Byte offset into the text.
    pub at: usize,
    pub text: String,
}

/// What the host gathered at one tick for the conditions that read it.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub tick: u64,
    /// The entities the conditions name, flattened (`player.hp`).
    pub world: Flat,
    /// The frame's content hash (XXH3-64), if one was shown at this tick.
    pub frame: Option<u64>,
    /// Pixels the conditions read, as `#rrggbb`.
    pub pixels: BTreeMap<(u32, u32), String>,
    /// Text of the log lines and world events of this tick.
    pub log: Vec<String>,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, ParseError> {
        let mut p = Parser {
            text,
            tokens: lex(text)?,
            pos: 0,
        };
        let expr = p.or()?;
        if let Some(t) = p.tokens.get(p.pos) {
            return Err(p.error(format!("unexpected {}", t.kind), t.at));
        }
        Ok(Condition {
            text: text.trim().to_owned(),
            expr,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The entity ids it reads (the first part of each path).
    pub fn entities(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.expr.visit(&mut |t| {
            if let Term::Path(p) = t {
                out.insert(entity_of(p).to_owned());
            }
        });
        out
    }

    /// The frame pixels it reads.
    pub fn pixels(&self) -> BTreeSet<(u32, u32)> {
        let mut out = BTreeSet::new();
        self.expr.visit(&mut |t| {
            if let Term::Pixel(x, y) = t {
                out.insert((*x, *y));
            }
        });
        out
    }

    /// Whether it reads the log (and so needs this tick's events).
    pub fn reads_log(&self) -> bool {
        let mut found = false;
        self.expr.visit(&mut |t| found |= matches!(t, Term::Log));
        found
    }

    /// Whether it holds at `now` (`before`: the sample of the tick before,
    /// for `changed`), and the values it read, by the text of each term.
    pub fn eval(&self, now: &Sample, before: Option<&Sample>) -> (bool, Map<String, Json>) {
        let mut values = Map::new();
        let holds = self.expr.eval(now, before, &mut values);
        (holds, values)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn entity_of(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

impl Expr {
    fn visit(&self, f: &mut impl FnMut(&Term)) {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Expr::Not(a) => a.visit(f),
            Expr::Cmp(a, _, b) => {
                f(a);
                f(b);
            }
            Expr::Changed(t) | Expr::Contains(t, _) | Expr::Truthy(t) => f(t),
        }
    }

    fn eval(&self, now: &Sample, before: Option<&Sample>, seen: &mut Map<String, Json>) -> bool {
        match self {
            Expr::Or(a, b) => a.eval(now, before, seen) | b.eval(now, before, seen),
            Expr::And(a, b) => a.eval(now, before, seen) & b.eval(now, before, seen),
            Expr::Not(a) => !a.eval(now, before, seen),
            Expr::Cmp(a, op, b) => {
                let (x, y) = (a.value(now, seen), b.value(now, seen));
                compare(&x, *op, &y)
            }
            Expr::Changed(t) => {
                let x = t.value(now, seen);
                let Some(before) = before else {
                    return false;
                };
                let y = t.value(before, &mut Map::new());
                // A frame or pixel not seen the tick before (the first
                // sample of a run) is unknown, not changed.
                if y.is_null() && matches!(t, Term::Frame | Term::Pixel(..)) {
                    return false;
                }
                let changed = !same(&x, &y);
                if changed {
                    seen.insert(format!("{} (before)", t.label()), y);
                }
                changed
            }
            Expr::Contains(t, needle) => match t {
                Term::Log => {
                    let hit = now.log.iter().find(|l| l.contains(needle.as_str()));
                    if let Some(line) = hit {
                        seen.insert("log".into(), Json::String(line.clone()));
                    }
                    hit.is_some()
                }
                _ => match t.value(now, seen) {
                    Json::String(s) => s.contains(needle.as_str()),
                    Json::Array(items) => items.iter().any(|i| i.as_str() == Some(needle)),
                    _ => false,
                },
            },
            Expr::Truthy(t) => match t {
                Term::Log => !now.log.is_empty(),
                _ => match t.value(now, seen) {
                    Json::Bool(b) => b,
                    Json::Null => false,
                    Json::Number(n) => n.as_f64() != Some(0.0),
                    Json::String(s) => !s.is_empty(),
                    Json::Array(a) => !a.is_empty(),
                    Json::Object(o) => !o.is_empty(),
                },
            },
        }
    }
}

impl Term {
    fn label(&self) -> String {
        match self {
            Term::Lit(v) => v.to_string(),
            Term::Path(p) => p.clone(),
            Term::Pixel(x, y) => format!("pixel({x}, {y})"),
            Term::Frame => "frame".into(),
            Term::Tick => "tick".into(),
            Term::Log => "log".into(),
        }
    }

    /// Its value at `s`, noted in `seen` unless it is a literal.
    fn value(&self, s: &Sample, seen: &mut Map<String, Json>) -> Json {
        let v = match self {
            Term::Lit(v) => return v.clone(),
            Term::Path(p) => lookup(&s.world, p),
            Term::Pixel(x, y) => s
                .pixels
                .get(&(*x, *y))
                .map_or(Json::Null, |c| Json::String(c.clone())),
            Term::Frame => s
                .frame
                .map_or(Json::Null, |c| Json::String(format!("{c:016x}"))),
            Term::Tick => Json::from(s.tick),
            Term::Log => Json::from(s.log.clone()),
        };
        seen.insert(self.label(), v.clone());
        v
    }
}

/// `player.flags` gathers `player.flags.*` back into an object when the
/// path names a nested object rather than a leaf.
fn lookup(world: &Flat, path: &str) -> Json {
    if let Some(v) = world.get(path) {
        return v.clone();
    }
    let prefix = format!("{path}.");
    let mut obj = Map::new();
    for (k, v) in world.range(prefix.clone()..) {
        let Some(rest) = k.strip_prefix(&prefix) else {
            break;
        };
        obj.insert(rest.to_owned(), v.clone());
    }
    if obj.is_empty() {
        Json::Null
    } else {
        Json::Object(obj)
    }
}

/// Equality where `20` and `20.0` are the same number, also inside arrays.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Json::String(x), Json::String(y)) => x.eq_ignore_ascii_case(y) && is_colour(x) || x == y,
        _ => a == b,
    }
}

fn is_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn compare(a: &Json, op: Op, b: &Json) -> bool {
    match op {
        Op::Eq => same(a, b),
        Op::Ne => !same(a, b),
        _ => {
            let ord = match (a, b) {
                (Json::Number(x), Json::Number(y)) => x
                    .as_f64()
                    .zip(y.as_f64())
                    .and_then(|(x, y)| x.partial_cmp(&y)),
                (Json::String(x), Json::String(y)) => Some(x.cmp(y)),
                // Null (an attribute the entity lacks) is never in order.
                _ => None,
            };
            ord.is_some_and(|o| match op {
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
                Op::Eq | Op::Ne => unreachable!("handled above"),
            })
        }
    }
}

// ---- parsing ----

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: String, at: usize) -> ParseError {
        ParseError {
            message,
            at,
            text: self.text.to_owned(),
        }
    }

    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.text.len(), |t| t.at)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Kind::Word(x)) if x == w)
    }

    fn expect(&mut self, kind: Kind, what: &str) -> Result<(), ParseError> {
        if self.peek() == Some(&kind) {
            self.pos += 1;
            Ok(())
        } else {
            let found = self
                .peek()
                .map_or_else(|| "the end".to_owned(), ToString::to_string);
            Err(self.error(format!("expected {what}, found {found}"), self.here()))
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.is_word("or") || self.peek() == Some(&Kind::OrOr) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.is_word("and") || self.peek() == Some(&Kind::AndAnd) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.is_word("not") || self.peek() == Some(&Kind::Bang) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Kind::LParen) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Kind::RParen, "`)`")?;
            return Ok(inner);
        }
        let at = self.here();
        let left = self.term()?;
        match self.peek().cloned() {
            Some(Kind::Op(op)) => {
                self.pos += 1;
                let right = self.term()?;
                Ok(Expr::Cmp(left, op, right))
            }
            Some(Kind::Tilde) => {
                self.pos += 1;
                match self.peek().cloned() {
                    Some(Kind::Str(s)) => {
                        self.pos += 1;
                        Ok(Expr::Contains(left, s))
                    }
                    _ => {
                        Err(self.error("`~` takes a string: log ~ \"bridge\"".into(), self.here()))
                    }
                }
            }
            Some(Kind::Word(w)) if w == "changed" => {
                self.pos += 1;
                if matches!(left, Term::Lit(_)) {
                    return Err(self.error("a literal never changes".into(), at));
                }
                Ok(Expr::Changed(left))
            }
            _ => {
                if let Term::Lit(_) = left {
                    return Err(self.error(
                        "a literal alone is no condition; compare something with it".into(),
                        at,
                    ));
                }
                Ok(Expr::Truthy(left))
            }
        }
    }

    fn term(&mut self) -> Result<Term, ParseError> {
        let at = self.here();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error(
                "expected a value (an entity.attribute, a number, frame, pixel(x, y), log, tick)"
                    .into(),
                at,
            ));
        };
        self.pos += 1;
        Ok(match tok {
            Kind::Num(n) => Term::Lit(number(n)),
            Kind::Str(s) | Kind::Colour(s) => Term::Lit(Json::String(s)),
            Kind::LBracket => {
                let mut items = Vec::new();
                if self.peek() != Some(&Kind::RBracket) {
                    loop {
                        let at = self.here();
                        match self.term()? {
                            Term::Lit(v) => items.push(v),
                            _ => return Err(self.error("arrays hold literals".into(), at)),
                        }
                        if self.peek() == Some(&Kind::Comma) {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(Kind::RBracket, "`,` or `]`")?;
                Term::Lit(Json::Array(items))
            }
            Kind::Word(w) => match w.as_str() {
                "true" => Term::Lit(Json::Bool(true)),
                "false" => Term::Lit(Json::Bool(false)),
                "null" => Term::Lit(Json::Null),
                "frame" => Term::Frame,
                "tick" => Term::Tick,
                "log" => Term::Log,
                "pixel" if self.peek() == Some(&Kind::LParen) => {
                    self.pos += 1;
                    let x = self.coordinate()?;
                    self.expect(Kind::Comma, "`,`")?;
                    let y = self.coordinate()?;
                    self.expect(Kind::RParen, "`)`")?;
                    Term::Pixel(x, y)
                }
                "and" | "or" | "not" | "changed" => {
                    return Err(self.error(format!("expected a value, found `{w}`"), at));
                }
                _ if !w.contains('.') => {
                    return Err(self.error(
                        format!(
                            "`{w}` is not a value: name an entity's attribute (`{w}.hp`), \
                             or use frame, pixel(x, y), log or tick"
                        ),
                        at,
                    ));
                }
                _ => Term::Path(w),
            },
            other => return Err(self.error(format!("expected a value, found {other}"), at)),
        })
    }

    fn coordinate(&mut self) -> Result<u32, ParseError> {
        let at = self.here();
        match self.peek() {
            Some(&Kind::Num(n)) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => {
                self.pos += 1;
                Ok(n as u32)
            }
            _ => Err(self.error("a pixel coordinate is a whole number ≥ 0".into(), at)),
        }
    }
}

fn number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(tick: u64, world: Json) -> Sample {
        let entities: Vec<Json> = world.as_array().cloned().unwrap_or_default();
        Sample {
            tick,
            world: crate::state::flatten(&entities),
            ..Sample::default()
        }
    }

    #[test]
    fn entity_comparisons_changes_and_logic() {
        let a = sample(
            1,
            json!([{"id": "player", "hp": 12, "tile": [4, 5]}, {"id": "door", "open": false}]),
        );
        let b = sample(
            2,
            json!([{"id": "player", "hp": 9, "tile": [4, 5]}, {"id": "door", "open": true}]),
        );
        let holds = |text: &str, now: &Sample, before: Option<&Sample>| {
            Condition::parse(text).expect(text).eval(now, before).0
        };
        assert!(!holds("player.hp < 10", &a, None));
        assert!(holds("player.hp < 10", &b, None));
        assert!(holds("player.tile == [4, 5.0]", &b, None));
        assert!(holds("door.open changed", &b, Some(&a)));
        assert!(!holds("player.tile changed", &b, Some(&a)));
        assert!(holds("door.open and not (player.hp >= 10)", &b, None));
        assert!(holds("tick == 2 || nobody.hp > 1", &b, None));
        assert!(!holds("nobody.hp < 1", &b, None), "null is never in order");
        let (_, values) = Condition::parse("door.open changed")
            .expect("parses")
            .eval(&b, Some(&a));
        assert_eq!(values["door.open"], json!(true));
        assert_eq!(values["door.open (before)"], json!(false));
        let c = Condition::parse("npc:3.tile == [1, 2] and player.hp > 1").expect("parses");
        assert_eq!(
            c.entities().into_iter().collect::<Vec<_>>(),
            ["npc:3", "player"]
        );
    }

    #[test]
    fn frame_pixels_and_log() {
        let mut now = Sample {
            tick: 5,
            frame: Some(7),
            ..Sample::default()
        };
        now.pixels.insert((10, 20), "#ff0000".into());
        now.log.push("You cross the bridge".into());
        let before = Sample {
            tick: 4,
            frame: Some(6),
            ..Sample::default()
        };
        let holds = |text: &str| {
            Condition::parse(text)
                .expect(text)
                .eval(&now, Some(&before))
                .0
        };
        assert!(holds("frame changed"));
        assert!(holds("pixel(10, 20) != #000000"));
        assert!(holds("pixel(10, 20) == #FF0000"));
        assert!(holds("log ~ \"bridge\""));
        assert!(!holds("log ~ 'river'"));
        let unseen = Sample {
            tick: 4,
            ..Sample::default()
        };
        let first = |text: &str| {
            Condition::parse(text)
                .expect(text)
                .eval(&now, Some(&unseen))
                .0
        };
        assert!(
            !first("frame changed"),
            "no frame before: unknown, not changed"
        );
        assert!(!first("pixel(10, 20) changed"));
        let c = Condition::parse("pixel(1,2) == #000000 or log ~ \"x\"").expect("parses");
        assert!(c.reads_log());
        assert_eq!(c.pixels().into_iter().collect::<Vec<_>>(), [(1, 2)]);
    }

    #[test]
    fn errors_point_at_the_place() {
        let at = |text: &str| Condition::parse(text).expect_err(text).at;
        assert_eq!(at("player.hp < "), 12);
        assert_eq!(at("player.hp = 3"), 10);
        assert_eq!(at("player.hp < 3 and"), 17);
        assert_eq!(at("pixel(1, 2) == #12345"), 15);
        assert_eq!(at("hp < 3"), 0);
        assert_eq!(at("(player.hp < 3"), 14);
        assert_eq!(at("player.hp < 3 3"), 14);
        assert_eq!(at("log ~ 3"), 6);
        let e = Condition::parse("player.hp = 3").expect_err("refused");
        let shown = e.to_string();
        assert!(shown.contains("`==`, not `=` at column 11"), "{shown}");
        assert!(
            shown.ends_with("\n  player.hp = 3\n            ^"),
            "{shown}"
        );
    }
}
