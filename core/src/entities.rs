//! The player and NPCs as plain JSON records a remote tool can list, read
//! and edit (`world.entities`, `world.get`, `world.set`).
//!
//! Ids are `player` and `npc:<index>`. Positions are in tiles. An edit is
//! checked against the scene first and changes nothing when refused.

use serde_json::{Map, Value, json};

use crate::engine::Engine;
use crate::world::{Actor, Dir, Npc, TILE_SUB};

/// Attributes `set_entity` accepts.
pub const SETTABLE: &[&str] = &["tile", "facing", "name", "say", "speed"];

fn actor_json(a: &Actor) -> Map<String, Value> {
    let mut m = Map::new();
    let (tx, ty) = a.tile();
    m.insert("tile".into(), json!([tx, ty]));
    m.insert(
        "pixel".into(),
        json!([a.x / crate::world::SUB, a.y / crate::world::SUB]),
    );
    m.insert("facing".into(), json!(a.facing));
    m.insert("moving".into(), json!(a.moving));
    m
}

fn npc_id(i: usize) -> String {
    format!("npc:{i}")
}

fn npc_json(i: usize, n: &Npc) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(npc_id(i)));
    m.insert("kind".into(), json!("npc"));
    m.insert("name".into(), json!(n.name));
    m.extend(actor_json(&n.actor));
    m.insert("speed".into(), json!(n.speed));
    m.insert("say".into(), json!(n.say));
    m.insert(
        "behaviour".into(),
        serde_json::to_value(&n.behaviour).unwrap_or(Value::Null),
    );
    Value::Object(m)
}

impl Engine {
    /// Every entity, player first.
    pub fn entities(&self) -> Vec<Value> {
        let w = self.world();
        let mut player = Map::new();
        player.insert("id".into(), json!("player"));
        player.insert("kind".into(), json!("player"));
        player.insert("name".into(), json!("player"));
        player.extend(actor_json(&w.player));
        player.insert("flags".into(), json!(w.flags));
        let mut all = vec![Value::Object(player)];
        all.extend(w.npcs.iter().enumerate().map(|(i, n)| npc_json(i, n)));
        all
    }

    /// Every entity, as [`Engine::entities`], each with `box`: where it is
    /// drawn in a frame of `size`, `[x, y, w, h]` in frame pixels (null
    /// when out of view). Golden masks use it (`{"entity": "npc:2"}`).
    pub fn entities_in_frame(&self, size: (u32, u32)) -> Vec<Value> {
        self.entities()
            .into_iter()
            .zip(self.drawn(size))
            .map(|(mut e, (_, b))| {
                if let Value::Object(m) = &mut e {
                    m.insert("box".into(), json!(b));
                }
                e
            })
            .collect()
    }

    /// Each entity's id and where it is drawn in a frame of `size`
    /// (`[x, y, w, h]`, none when out of view), in [`Engine::entities`]'
    /// order.
    fn drawn(&self, size: (u32, u32)) -> impl Iterator<Item = (String, Option<[u32; 4]>)> + '_ {
        let w = self.world();
        let actors = std::iter::once(("player".to_owned(), &w.player)).chain(
            w.npcs
                .iter()
                .enumerate()
                .map(|(i, n)| (npc_id(i), &n.actor)),
        );
        actors.map(move |(id, actor)| {
            let b =
                crate::render::Renderer::actor_box(self.scene(), w, self.settings(), size, actor);
            (id, b)
        })
    }

    /// What is at frame pixel `(x, y)` of a frame of `size` (`world.pick`):
    /// the scene pixel, the tile there (map position, kind, whether it is
    /// solid; null off the map) and the ids of the entities drawn over it.
    pub fn pick(&self, size: (u32, u32), (x, y): (u32, u32)) -> Value {
        let (sx, sy) = crate::render::Renderer::scene_pixel(
            self.scene(),
            self.world(),
            self.settings(),
            size,
            (x, y),
        );
        let px = crate::scene::TILE_PX as i32;
        let (tx, ty) = (sx.div_euclid(px), sy.div_euclid(px));
        let tile = self
            .scene()
            .tile_at(tx, ty)
            .map(|t| json!({"x": tx, "y": ty, "kind": t.name, "solid": t.solid}));
        let over: Vec<String> = self
            .drawn(size)
            .filter(|(_, b)| {
                b.is_some_and(|[bx, by, bw, bh]| {
                    (bx..bx + bw).contains(&x) && (by..by + bh).contains(&y)
                })
            })
            .map(|(id, _)| id)
            .collect();
        json!({"x": x, "y": y, "scene_pixel": [sx, sy], "tile": tile, "entities": over})
    }

    /// One entity by id.
    pub fn entity(&self, id: &str) -> Option<Value> {
        self.entities()
            .into_iter()
            .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
    }

    /// Changes attributes of entity `id`; returns it as it now is. On error
    /// nothing changes, and the message says what is allowed.
    pub fn set_entity(&mut self, id: &str, attrs: &Map<String, Value>) -> Result<Value, String> {
        let npc_index = match id {
            "player" => None,
            _ => Some(
                id.strip_prefix("npc:")
                    .and_then(|i| i.parse::<usize>().ok())
                    .filter(|&i| i < self.world().npcs.len())
                    .ok_or_else(|| {
                        format!(
                            "no entity `{id}`; ids are `player` and `npc:0` to `npc:{}`",
                            self.world().npcs.len().saturating_sub(1)
                        )
                    })?,
            ),
        };
        let scene = self.scene().clone();
        let mut world = self.world().clone();
        for (key, value) in attrs {
            let bad = |want: &str| format!("`{key}` takes {want}, not {value}");
            let is_player = npc_index.is_none();
            match key.as_str() {
                "tile" => {
                    let xy = value
                        .as_array()
                        .filter(|a| a.len() == 2)
                        .and_then(|a| Some((a[0].as_i64()?, a[1].as_i64()?)))
                        .ok_or_else(|| bad("[x, y] in tiles"))?;
                    let (x, y) = (xy.0 as i32, xy.1 as i32);
                    if !scene.walkable(x, y) {
                        return Err(format!(
                            "tile [{x}, {y}] is solid or outside the {}x{} map; pick a walkable tile",
                            scene.width, scene.height
                        ));
                    }
                    let actor = match npc_index {
                        None => &mut world.player,
                        Some(i) => &mut world.npcs[i].actor,
                    };
                    actor.x = x * TILE_SUB;
                    actor.y = y * TILE_SUB;
                    actor.target = None;
                    actor.moving = false;
                }
                "facing" => {
                    let dir: Dir = serde_json::from_value(value.clone())
                        .map_err(|_| bad("one of up, down, left, right"))?;
                    match npc_index {
                        None => world.player.facing = dir,
                        Some(i) => world.npcs[i].actor.facing = dir,
                    }
                }
                "name" | "say" | "speed" if is_player => {
                    return Err(format!(
                        "the player has no `{key}`; it can set tile and facing"
                    ));
                }
                "name" => {
                    let name = value
                        .as_str()
                        .filter(|s| (1..=24).contains(&s.chars().count()))
                        .filter(|s| !s.contains(char::is_control))
                        .ok_or_else(|| {
                            bad("a string of 1 to 24 characters, without control characters")
                        })?;
                    world.npcs[npc_index.unwrap_or_default()].name = name.to_owned();
                }
                "say" => {
                    let say = match value {
                        Value::Null => None,
                        Value::String(s)
                            if s.chars().count() <= 200 && !s.contains(char::is_control) =>
                        {
                            Some(s.clone())
                        }
                        _ => {
                            return Err(bad(
                                "a string of at most 200 characters without control characters \
                                 (ESC, BEL, NUL, newlines…), or null",
                            ));
                        }
                    };
                    world.npcs[npc_index.unwrap_or_default()].say = say;
                }
                "speed" => {
                    let speed = value
                        .as_u64()
                        .filter(|s| (1..=8).contains(s))
                        .ok_or_else(|| bad("an integer from 1 to 8 (pixels per tick)"))?;
                    world.npcs[npc_index.unwrap_or_default()].speed = speed as u32;
                }
                other => {
                    return Err(format!(
                        "unknown attribute `{other}`; settable: {}",
                        SETTABLE.join(", ")
                    ));
                }
            }
        }
        world.check(&scene)?;
        self.replace_world(world);
        Ok(self.entity(id).unwrap_or(Value::Null))
    }
}
