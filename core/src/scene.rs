//! Scenes: the JSON format (see `docs/scene.md`), its validation, and the
//! resolved [`Scene`] the world is built from.
//!
//! Every error names the file, line and column and says what was expected,
//! including errors found after parsing (an unknown tile letter, a spawn
//! inside a wall), which [`locate`] maps back to the source text.

mod locate;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use locate::{Seg, display_path};

/// Side of a square tile, in scene pixels.
pub const TILE_PX: u32 = 16;
/// The largest map side, in tiles.
pub const MAX_MAP_SIDE: u32 = 1024;
const MAX_NPCS: usize = 256;
const MAX_TEXT: usize = 240;

/// The demo scene compiled into the binary.
pub const BUILTIN_SOURCE: &str = include_str!("../../fixtures/scenes/demo.json");
/// The name the built-in scene's errors and reports use.
pub const BUILTIN_NAME: &str = "builtin:demo";

/// An error in a scene (or other JSON input) with the place it was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}:{column}: {message}")]
pub struct SceneError {
    /// The file name (or `builtin:demo`).
    pub source_name: String,
    pub line: usize,
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl SceneError {
    /// Wraps a `serde_json` error, keeping its position.
    pub fn from_json(source_name: &str, err: &serde_json::Error) -> SceneError {
        let text = err.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        SceneError {
            source_name: source_name.to_owned(),
            line: err.line().max(1),
            column: err.column().max(1),
            message,
        }
    }

    fn at(
        source_name: &str,
        src: &str,
        path: &[Seg],
        offset_in_value: usize,
        message: String,
    ) -> SceneError {
        let offset = locate::locate(src, path) + offset_in_value;
        let (line, column) = locate::line_col(src, offset);
        let where_ = display_path(path);
        SceneError {
            source_name: source_name.to_owned(),
            line,
            column,
            message: if where_.is_empty() {
                message
            } else {
                format!("{where_}: {message}")
            },
        }
    }
}

/// An opaque colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Parses `#rgb` or `#rrggbb`.
    pub fn parse_hex(s: &str) -> Option<Rgb> {
        let hex = s.strip_prefix('#')?;
        let digit = |i: usize| u8::from_str_radix(hex.get(i..i + 1)?, 16).ok();
        let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        match hex.len() {
            3 => Some(Rgb(digit(0)? * 17, digit(1)? * 17, digit(2)? * 17)),
            6 => Some(Rgb(byte(0)?, byte(2)?, byte(4)?)),
            _ => None,
        }
    }

    /// Scales brightness by `num/256`.
    pub fn scale(self, num: u32) -> Rgb {
        let s = |c: u8| ((u32::from(c) * num) / 256).min(255) as u8;
        Rgb(s(self.0), s(self.1), s(self.2))
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// How a tile is drawn. See `docs/scene.md` for pictures in words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// One flat colour.
    #[default]
    Plain,
    /// Colour with scattered accent pixels (grass, sand).
    Speckle,
    /// 8×8 checks of colour and accent (floors).
    Checker,
    /// Horizontal boards with accent seams (wooden floors, bridges).
    Planks,
    /// Bricks in colour with accent mortar (walls, roofs).
    Brick,
    /// Animated waves in accent over colour.
    Water,
    /// Accent flowers over colour.
    Flowers,
    /// A round canopy in colour over accent ground.
    Tree,
    /// Rounded blocks with highlights (rocks, stone walls).
    Stone,
}

/// One kind of tile, from the scene's legend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tile {
    pub glyph: char,
    pub name: String,
    pub color: Rgb,
    pub accent: Rgb,
    pub pattern: Pattern,
    pub solid: bool,
}

/// How an NPC moves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Behaviour {
    /// Random steps within `radius` tiles of where it started, waiting
    /// `pause` ticks between steps.
    Wander { radius: u32, pause: u32 },
    /// Walks to each waypoint in turn, forever, waiting `pause` ticks at each.
    Patrol {
        waypoints: Vec<(u32, u32)>,
        pause: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpcDef {
    pub name: String,
    pub at: (u32, u32),
    pub color: Rgb,
    pub say: Option<String>,
    /// Walking speed in pixels per tick.
    pub speed: u32,
    pub behaviour: Behaviour,
}

/// A rectangle of tiles that reacts when the player steps onto it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub message: Option<String>,
    pub set_flag: Option<String>,
    /// Fire only the first time.
    pub once: bool,
}

impl Trigger {
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && y >= self.y && x < self.x + self.w && y < self.y + self.h
    }
}

/// A validated scene, ready to build a world from.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub name: String,
    pub description: String,
    /// Where it came from: a path or `builtin:demo`.
    pub source_name: String,
    pub width: u32,
    pub height: u32,
    pub background: Rgb,
    pub tiles: Vec<Tile>,
    cells: Vec<u8>,
    pub spawn: (u32, u32),
    pub npcs: Vec<NpcDef>,
    pub triggers: Vec<Trigger>,
    /// Parameter defaults the scene sets, already validated.
    pub param_defaults: BTreeMap<String, crate::params::Value>,
}

impl Scene {
    /// The demo scene compiled into the binary.
    pub fn builtin() -> Scene {
        #[allow(clippy::expect_used)]
        Scene::parse(BUILTIN_NAME, BUILTIN_SOURCE).expect("the built-in scene is valid (tested)")
    }

    /// Parses and validates a scene. `source_name` is used in error messages.
    pub fn parse(source_name: &str, src: &str) -> Result<Scene, SceneError> {
        let raw: RawScene =
            serde_json::from_str(src).map_err(|e| SceneError::from_json(source_name, &e))?;
        Resolver { source_name, src }.resolve(raw)
    }

    /// The tile at a map position, or `None` outside the map.
    pub fn tile_at(&self, x: i32, y: i32) -> Option<&Tile> {
        if x < 0 || y < 0 || x >= self.width as i32 || y >= self.height as i32 {
            return None;
        }
        let idx = self.cells[y as usize * self.width as usize + x as usize];
        self.tiles.get(usize::from(idx))
    }

    /// Tile index (into [`Scene::tiles`]) at an in-map position.
    pub fn tile_index(&self, x: u32, y: u32) -> usize {
        usize::from(self.cells[y as usize * self.width as usize + x as usize])
    }

    /// Inside the map and not solid.
    pub fn walkable(&self, x: i32, y: i32) -> bool {
        self.tile_at(x, y).is_some_and(|t| !t.solid)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScene {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    background: Option<String>,
    #[serde(default)]
    palette: BTreeMap<String, String>,
    tiles: BTreeMap<String, RawTile>,
    map: Vec<String>,
    spawn: [u32; 2],
    #[serde(default)]
    npcs: Vec<RawNpc>,
    #[serde(default)]
    triggers: Vec<RawTrigger>,
    #[serde(default)]
    params: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTile {
    name: String,
    color: String,
    #[serde(default)]
    accent: Option<String>,
    #[serde(default)]
    pattern: Pattern,
    #[serde(default)]
    solid: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNpc {
    name: String,
    at: [u32; 2],
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    say: Option<String>,
    #[serde(default)]
    speed: Option<u32>,
    #[serde(alias = "behavior")]
    behaviour: RawBehaviour,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum RawBehaviour {
    Wander {
        #[serde(default)]
        radius: Option<u32>,
        #[serde(default)]
        pause: Option<u32>,
    },
    Patrol {
        waypoints: Vec<[u32; 2]>,
        #[serde(default)]
        pause: Option<u32>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    at: [u32; 2],
    #[serde(default)]
    size: Option<[u32; 2]>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    set_flag: Option<String>,
    #[serde(default)]
    once: bool,
}

struct Resolver<'a> {
    source_name: &'a str,
    src: &'a str,
}

impl Resolver<'_> {
    fn err(&self, path: &[Seg], message: impl Into<String>) -> SceneError {
        SceneError::at(self.source_name, self.src, path, 0, message.into())
    }

    fn color(
        &self,
        palette: &BTreeMap<String, Rgb>,
        value: &str,
        path: &[Seg],
    ) -> Result<Rgb, SceneError> {
        if let Some(c) = palette.get(value) {
            return Ok(*c);
        }
        Rgb::parse_hex(value).ok_or_else(|| {
            let names: Vec<&str> = palette.keys().map(String::as_str).collect();
            self.err(
                path,
                format!(
                    "`{value}` is not a colour: expected #rgb, #rrggbb or a palette name ({})",
                    if names.is_empty() {
                        "the palette is empty".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })
    }

    fn text(&self, value: Option<String>, path: &[Seg]) -> Result<Option<String>, SceneError> {
        match value {
            Some(t) if t.chars().count() > MAX_TEXT => Err(self.err(
                path,
                format!(
                    "text is {} characters long; at most {MAX_TEXT} fit in the HUD",
                    t.chars().count()
                ),
            )),
            Some(t) if t.trim().is_empty() => {
                Err(self.err(path, "text is empty; leave the field out instead"))
            }
            Some(t) if t.contains(char::is_control) => Err(self.err(
                path,
                "text contains a control character (a newline, tab, ESC …); the HUD draws one line of plain text",
            )),
            other => Ok(other),
        }
    }

    fn resolve(&self, raw: RawScene) -> Result<Scene, SceneError> {
        let mut palette = BTreeMap::new();
        for (name, hex) in &raw.palette {
            let c = Rgb::parse_hex(hex).ok_or_else(|| {
                self.err(
                    &["palette".into(), name.as_str().into()],
                    format!("`{hex}` is not a colour: expected #rgb or #rrggbb"),
                )
            })?;
            palette.insert(name.clone(), c);
        }
        let background = match &raw.background {
            Some(v) => self.color(&palette, v, &["background".into()])?,
            None => Rgb(0, 0, 0),
        };

        let mut tiles = Vec::new();
        let mut glyph_index = BTreeMap::new();
        if raw.tiles.is_empty() {
            return Err(self.err(
                &["tiles".into()],
                "the legend is empty: add at least one tile",
            ));
        }
        if raw.tiles.len() > 255 {
            return Err(self.err(&["tiles".into()], "at most 255 kinds of tile are allowed"));
        }
        for (key, t) in raw.tiles {
            let path = |field: &str| -> Vec<Seg> {
                vec!["tiles".into(), key.as_str().into(), field.into()]
            };
            let mut chars = key.chars();
            let glyph = match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => c,
                _ => {
                    return Err(self.err(
                        &["tiles".into()],
                        format!("tile key `{key}` must be exactly one character, the letter used in `map`"),
                    ));
                }
            };
            let color = self.color(&palette, &t.color, &path("color"))?;
            let accent = match &t.accent {
                Some(a) => self.color(&palette, a, &path("accent"))?,
                None => color.scale(200),
            };
            glyph_index.insert(glyph, tiles.len() as u8);
            tiles.push(Tile {
                glyph,
                name: t.name,
                color,
                accent,
                pattern: t.pattern,
                solid: t.solid,
            });
        }

        let height = raw.map.len() as u32;
        if height == 0 {
            return Err(self.err(&["map".into()], "the map has no rows"));
        }
        let width = raw.map[0].chars().count() as u32;
        if width == 0 || width > MAX_MAP_SIDE || height > MAX_MAP_SIDE {
            return Err(self.err(
                &["map".into()],
                format!("the map is {width}x{height} tiles; each side must be 1 to {MAX_MAP_SIDE}"),
            ));
        }
        let mut cells = Vec::with_capacity((width * height) as usize);
        for (y, row) in raw.map.iter().enumerate() {
            let path = ["map".into(), y.into()];
            let len = row.chars().count() as u32;
            if len != width {
                return Err(self.err(&path, format!("row {y} is {len} tiles wide, but row 0 is {width}: every row must be as wide")));
            }
            for (x, ch) in row.chars().enumerate() {
                let Some(idx) = glyph_index.get(&ch) else {
                    let known: String = glyph_index.keys().collect();
                    // +1 steps over the opening quote of the row string.
                    return Err(SceneError::at(
                        self.source_name,
                        self.src,
                        &path,
                        1 + row.char_indices().nth(x).map_or(0, |(i, _)| i),
                        format!(
                            "`{ch}` at column {x} is not in the tile legend (known: `{known}`)"
                        ),
                    ));
                };
                cells.push(*idx);
            }
        }

        let mut scene = Scene {
            name: raw.name,
            description: raw.description,
            source_name: self.source_name.to_owned(),
            width,
            height,
            background,
            tiles,
            cells,
            spawn: (raw.spawn[0], raw.spawn[1]),
            npcs: Vec::new(),
            triggers: Vec::new(),
            param_defaults: BTreeMap::new(),
        };
        self.check_walkable(&scene, raw.spawn, &["spawn".into()], "the spawn point")?;

        if raw.npcs.len() > MAX_NPCS {
            return Err(self.err(
                &["npcs".into()],
                format!("{} NPCs; at most {MAX_NPCS} are allowed", raw.npcs.len()),
            ));
        }
        for (i, npc) in raw.npcs.into_iter().enumerate() {
            let path = |field: &str| -> Vec<Seg> { vec!["npcs".into(), i.into(), field.into()] };
            self.check_walkable(&scene, npc.at, &path("at"), "an NPC's start")?;
            let color = match &npc.color {
                Some(c) => self.color(&palette, c, &path("color"))?,
                None => Rgb(0xc0, 0x40, 0x40),
            };
            let speed = npc.speed.unwrap_or(1);
            if !(1..=8).contains(&speed) {
                return Err(self.err(
                    &path("speed"),
                    format!("speed {speed} is out of range: 1 to 8 pixels per tick"),
                ));
            }
            let behaviour = match npc.behaviour {
                RawBehaviour::Wander { radius, pause } => Behaviour::Wander {
                    radius: radius.unwrap_or(4),
                    pause: pause.unwrap_or(40),
                },
                RawBehaviour::Patrol { waypoints, pause } => {
                    if waypoints.is_empty() {
                        return Err(
                            self.err(&path("behaviour"), "a patrol needs at least one waypoint")
                        );
                    }
                    for (w, p) in waypoints.iter().enumerate() {
                        let wp = vec![
                            "npcs".into(),
                            i.into(),
                            "behaviour".into(),
                            "waypoints".into(),
                            w.into(),
                        ];
                        self.check_walkable(&scene, *p, &wp, "a waypoint")?;
                    }
                    Behaviour::Patrol {
                        waypoints: waypoints.iter().map(|p| (p[0], p[1])).collect(),
                        pause: pause.unwrap_or(0),
                    }
                }
            };
            let say = self.text(npc.say, &path("say"))?;
            scene.npcs.push(NpcDef {
                name: npc.name,
                at: (npc.at[0], npc.at[1]),
                color,
                say,
                speed,
                behaviour,
            });
        }

        for (i, t) in raw.triggers.into_iter().enumerate() {
            let path =
                |field: &str| -> Vec<Seg> { vec!["triggers".into(), i.into(), field.into()] };
            let [w, h] = t.size.unwrap_or([1, 1]);
            if w == 0
                || h == 0
                || t.at[0].saturating_add(w) > width
                || t.at[1].saturating_add(h) > height
            {
                return Err(self.err(
                    &path("at"),
                    format!("the trigger area at ({}, {}) size {w}x{h} does not fit in the {width}x{height} map", t.at[0], t.at[1]),
                ));
            }
            if t.message.is_none() && t.set_flag.is_none() {
                return Err(self.err(
                    &["triggers".into(), i.into()],
                    "a trigger needs a `message`, a `set_flag`, or both",
                ));
            }
            let message = self.text(t.message, &path("message"))?;
            scene.triggers.push(Trigger {
                x: t.at[0],
                y: t.at[1],
                w,
                h,
                message,
                set_flag: t.set_flag,
                once: t.once,
            });
        }

        let mut params = crate::params::for_npc_count(scene.npcs.len());
        for (name, value) in raw.params {
            let path = ["params".into(), name.as_str().into()];
            let value = params
                .from_json(&name, &value)
                .map_err(|e| self.err(&path, e.to_string()))?;
            params
                .set_default(&name, value.clone())
                .map_err(|e| self.err(&path, e.to_string()))?;
            scene.param_defaults.insert(name, value);
        }
        Ok(scene)
    }

    fn check_walkable(
        &self,
        scene: &Scene,
        at: [u32; 2],
        path: &[Seg],
        what: &str,
    ) -> Result<(), SceneError> {
        let [x, y] = at;
        match scene.tile_at(x as i32, y as i32) {
            None => Err(self.err(
                path,
                format!(
                    "{what} ({x}, {y}) is outside the {}x{} map (x 0..{}, y 0..{})",
                    scene.width,
                    scene.height,
                    scene.width - 1,
                    scene.height - 1
                ),
            )),
            Some(t) if t.solid => Err(self.err(
                path,
                format!(
                    "{what} ({x}, {y}) is on `{}` ({}), which is solid",
                    t.glyph, t.name
                ),
            )),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(src: &str) -> Result<Scene, SceneError> {
        Scene::parse("s.json", src)
    }

    const SMALL: &str = r##"{
  "name": "small",
  "palette": {"green": "#2a2"},
  "tiles": {
    ".": {"name": "grass", "color": "green"},
    "W": {"name": "wall", "color": "#888888", "solid": true}
  },
  "map": [
    "WWWWW",
    "W...W",
    "WWWWW"
  ],
  "spawn": [1, 1]
}"##;

    #[test]
    fn builtin_scene_is_valid_and_big_enough_to_scroll() {
        let s = Scene::builtin();
        assert!(s.width >= 40 && s.height >= 24, "{}x{}", s.width, s.height);
        assert!(s.npcs.len() >= 4);
        assert!(s.triggers.len() >= 3);
    }

    #[test]
    fn small_scene_parses() {
        let s = scene(SMALL).expect("valid");
        assert_eq!((s.width, s.height), (5, 3));
        assert!(s.walkable(1, 1));
        assert!(!s.walkable(0, 0));
        assert!(!s.walkable(-1, 1));
        assert_eq!(
            s.tile_at(2, 1).map(|t| t.color),
            Some(Rgb(0x22, 0xaa, 0x22))
        );
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = scene("{\n  \"name\": \"x\",\n  \"tiles\": {,\n}").expect_err("bad json");
        assert_eq!((err.line, err.column), (3, 13), "{err}");
        assert!(err.to_string().starts_with("s.json:3:13: "), "{err}");
    }

    #[test]
    fn unknown_field_says_what_is_expected() {
        let err = scene(&SMALL.replace("\"spawn\"", "\"spwan\"")).expect_err("typo");
        let msg = err.to_string();
        assert!(
            msg.contains("unknown field `spwan`") && msg.contains("spawn"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_tile_points_at_the_letter() {
        let err = scene(&SMALL.replace("\"W...W\"", "\"W.X.W\"")).expect_err("X unknown");
        assert_eq!((err.line, err.column), (10, 8), "{err}");
        assert!(
            err.message
                .contains("`X` at column 2 is not in the tile legend"),
            "{err}"
        );
    }

    #[test]
    fn spawn_in_a_wall_is_refused_with_its_place() {
        let err = scene(&SMALL.replace("[1, 1]", "[0, 0]")).expect_err("solid");
        assert_eq!(err.line, 13, "{err}");
        assert!(
            err.message
                .starts_with("spawn: the spawn point (0, 0) is on `W` (wall), which is solid"),
            "{err}"
        );
    }

    #[test]
    fn ragged_rows_and_bad_colours_are_refused() {
        let err = scene(&SMALL.replace("\"W...W\"", "\"W..W\"")).expect_err("ragged");
        assert!(err.message.contains("row 1 is 4 tiles wide"), "{err}");
        let err = scene(&SMALL.replace("\"#888888\"", "\"grey\"")).expect_err("colour");
        assert!(
            err.message.contains("`grey` is not a colour") && err.message.contains("green"),
            "{err}"
        );
        assert_eq!(err.line, 6, "{err}");
    }

    #[test]
    fn bad_param_default_is_located() {
        let src = SMALL.replace(
            "\"spawn\": [1, 1]",
            "\"spawn\": [1, 1],\n  \"params\": {\"walk_speed\": 99}",
        );
        let err = scene(&src).expect_err("out of range");
        assert_eq!(err.line, 14, "{err}");
        assert!(
            err.message.contains("walk_speed") && err.message.contains("99"),
            "{err}"
        );
    }
}
