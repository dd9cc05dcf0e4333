//! The simulated world: the player, NPCs, triggers and flags, advanced one
//! fixed tick at a time. Positions are fixed-point (1/256 pixel) integers,
//! so a run is bit-for-bit the same in debug and release, on any machine.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::input::{Button, Buttons, InputState};
use crate::rng::Rng;
use crate::scene::{Behaviour, Rgb, Scene, TILE_PX};

/// Subpixels per pixel.
pub const SUB: i32 = 256;
/// Subpixels per tile.
pub const TILE_SUB: i32 = TILE_PX as i32 * SUB;

// The player's collision box inside its 16×16 cell, in pixels: the lower
// part of the body, so that heads may overlap walls above them.
const HIT_LEFT: i32 = 2 * SUB;
const HIT_RIGHT: i32 = 14 * SUB;
const HIT_TOP: i32 = 4 * SUB;
const HIT_BOTTOM: i32 = 16 * SUB;

/// A direction of movement or facing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

impl Dir {
    pub const ALL: [Dir; 4] = [Dir::Up, Dir::Down, Dir::Left, Dir::Right];

    pub fn delta(self) -> (i32, i32) {
        match self {
            Dir::Up => (0, -1),
            Dir::Down => (0, 1),
            Dir::Left => (-1, 0),
            Dir::Right => (1, 0),
        }
    }

    pub fn reverse(self) -> Dir {
        match self {
            Dir::Up => Dir::Down,
            Dir::Down => Dir::Up,
            Dir::Left => Dir::Right,
            Dir::Right => Dir::Left,
        }
    }

    fn from_button(b: Button) -> Option<Dir> {
        match b {
            Button::Up => Some(Dir::Up),
            Button::Down => Some(Dir::Down),
            Button::Left => Some(Dir::Left),
            Button::Right => Some(Dir::Right),
            Button::Action => None,
        }
    }
}

/// How the player moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkMode {
    /// From tile to tile, animated between them.
    Tile,
    /// Freely, pixel by pixel, sliding along walls.
    Pixel,
}

/// The parameters the world and renderer read, in the form they use.
/// Rebuilt from [`Params`](crate::params::Params) whenever a parameter changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Subpixels per tick.
    pub walk_speed: i32,
    pub walk_mode: WalkMode,
    pub npc_count: usize,
    pub world_seed: u64,
    /// Night tint strength, 0 (day) to 256 (deep night).
    pub night: u32,
    pub show_grid: bool,
    pub autopilot: bool,
    pub player_tags: Vec<String>,
    pub tick_rate: u32,
    /// 0 = automatic.
    pub zoom: u32,
    pub show_hud: bool,
    pub message_ticks: u64,
}

/// Anything that walks: a position (top-left of its 16×16 cell, in
/// subpixels), where it faces, and the tile it is stepping to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub x: i32,
    pub y: i32,
    pub facing: Dir,
    /// The tile it is walking to (tile mode and NPCs).
    #[serde(default)]
    pub target: Option<(i32, i32)>,
    /// Subpixels walked in all, for the walk animation.
    #[serde(default)]
    pub walked: u32,
    /// Whether it moved on the last tick.
    #[serde(default)]
    pub moving: bool,
}

impl Actor {
    fn at_tile(x: u32, y: u32) -> Actor {
        Actor {
            x: x as i32 * TILE_SUB,
            y: y as i32 * TILE_SUB,
            facing: Dir::Down,
            target: None,
            walked: 0,
            moving: false,
        }
    }

    /// The tile under the middle of its feet.
    pub fn tile(&self) -> (i32, i32) {
        (
            (self.x + 8 * SUB).div_euclid(TILE_SUB),
            (self.y + 10 * SUB).div_euclid(TILE_SUB),
        )
    }

    fn aligned(&self) -> bool {
        self.x.rem_euclid(TILE_SUB) == 0 && self.y.rem_euclid(TILE_SUB) == 0
    }

    /// Steps toward the target tile; true on arrival.
    fn step_to_target(&mut self, speed: i32) -> bool {
        let Some((tx, ty)) = self.target else {
            return false;
        };
        let (gx, gy) = (tx * TILE_SUB, ty * TILE_SUB);
        let dx = (gx - self.x).clamp(-speed, speed);
        let dy = (gy - self.y).clamp(-speed, speed);
        self.x += dx;
        self.y += dy;
        self.walked = self.walked.wrapping_add((dx.abs() + dy.abs()) as u32);
        self.moving = dx != 0 || dy != 0;
        if self.x == gx && self.y == gy {
            self.target = None;
            true
        } else {
            false
        }
    }

    /// 0 or 1: which walking pose to draw.
    pub fn walk_frame(&self) -> usize {
        if self.moving {
            ((self.walked / (6 * SUB as u32)) % 2) as usize
        } else {
            0
        }
    }
}

/// A non-player character.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Npc {
    pub name: String,
    pub color: Rgb,
    #[serde(default)]
    pub say: Option<String>,
    /// Pixels per tick.
    pub speed: u32,
    pub behaviour: Behaviour,
    /// Where it started: wanderers stay near it.
    pub home: (u32, u32),
    pub actor: Actor,
    rng: Rng,
    #[serde(default)]
    wait: u32,
    #[serde(default)]
    waypoint: usize,
}

/// A line of text in the HUD until a tick.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub text: String,
    pub until: u64,
}

/// Something that happened in the world during a tick, for logs and events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorldEvent {
    Trigger {
        index: usize,
        at: (u32, u32),
        #[serde(skip_serializing_if = "Option::is_none")]
        flag: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Talk {
        npc: String,
        text: String,
    },
}

/// What a keep-progress reboot carried over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarryOver {
    /// False when the old position is solid or outside the new map: the
    /// player then starts at the spawn point.
    pub position_kept: bool,
    pub flags_kept: usize,
}

/// The whole mutable state of a game. Serializes to JSON as a save file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    pub tick: u64,
    pub player: Actor,
    pub npcs: Vec<Npc>,
    pub flags: BTreeSet<String>,
    /// Indices of triggers that have fired.
    #[serde(default)]
    fired: BTreeSet<usize>,
    /// The tile the player stood on at the end of the last tick.
    #[serde(default)]
    last_tile: Option<(i32, i32)>,
    #[serde(default)]
    pub message: Option<Message>,
    autopilot: Rng,
    autopilot_dir: Dir,
    #[serde(skip)]
    events: Vec<WorldEvent>,
}

const EXTRA_COLORS: [Rgb; 6] = [
    Rgb(0x4a, 0x7a, 0xd0),
    Rgb(0xd0, 0x8a, 0x2a),
    Rgb(0x8a, 0x4a, 0xb0),
    Rgb(0x2a, 0x9a, 0x8a),
    Rgb(0xb0, 0x3a, 0x6a),
    Rgb(0x7a, 0x8a, 0x2a),
];

impl World {
    /// A fresh world at the scene's spawn point.
    pub fn new(scene: &Scene, settings: &Settings, tick: u64) -> World {
        let seed = settings.world_seed;
        let mut world = World {
            tick,
            player: Actor::at_tile(scene.spawn.0, scene.spawn.1),
            npcs: Vec::new(),
            flags: BTreeSet::new(),
            fired: BTreeSet::new(),
            last_tile: None,
            message: None,
            autopilot: Rng::new(seed, 0),
            autopilot_dir: Dir::Right,
            events: Vec::new(),
        };
        world.last_tile = Some(world.player.tile());
        for (i, def) in scene.npcs.iter().take(settings.npc_count).enumerate() {
            world.npcs.push(Npc {
                name: def.name.clone(),
                color: def.color,
                say: def.say.clone(),
                speed: def.speed,
                behaviour: def.behaviour.clone(),
                home: def.at,
                actor: Actor::at_tile(def.at.0, def.at.1),
                rng: Rng::new(seed, 1 + i as u64),
                wait: 0,
                waypoint: 0,
            });
        }
        // Extra wanderers at random free tiles, from a stream of their own.
        let mut placer = Rng::new(seed, 10_000);
        for i in scene.npcs.len()..settings.npc_count {
            let Some(at) = (0..4096).find_map(|_| {
                let x = placer.below(scene.width) as i32;
                let y = placer.below(scene.height) as i32;
                (scene.walkable(x, y) && !world.occupied((x, y), usize::MAX))
                    .then_some((x as u32, y as u32))
            }) else {
                break;
            };
            world.npcs.push(Npc {
                name: format!("Villager {}", i + 1),
                color: EXTRA_COLORS[i % EXTRA_COLORS.len()],
                say: Some("Lovely weather for a walk.".into()),
                speed: 1,
                behaviour: Behaviour::Wander {
                    radius: 5,
                    pause: 30,
                },
                home: at,
                actor: Actor::at_tile(at.0, at.1),
                rng: Rng::new(seed, 1 + i as u64),
                wait: 0,
                waypoint: 0,
            });
        }
        world
    }

    /// Carries the player's progress (position if still free, flags, fired
    /// triggers) over from an older world, after a keep-progress reboot.
    pub fn carry_over(&mut self, old: &World, scene: &Scene) -> CarryOver {
        let p = &old.player;
        let (tx, ty) = nearest_tile(p);
        let position_kept = !collides(scene, p.x, p.y) && scene.walkable(tx, ty);
        if position_kept {
            self.player = Actor {
                target: None,
                moving: false,
                ..p.clone()
            };
        }
        self.flags = old.flags.clone();
        self.fired = old
            .fired
            .iter()
            .copied()
            .filter(|i| *i < scene.triggers.len())
            .collect();
        self.last_tile = Some(self.player.tile());
        self.autopilot_dir = old.autopilot_dir;
        CarryOver {
            position_kept,
            flags_kept: self.flags.len(),
        }
    }

    /// Checks that a restored world fits the scene.
    pub fn check(&self, scene: &Scene) -> Result<(), String> {
        let in_map = |a: &Actor| {
            let (x, y) = a.tile();
            x >= 0 && y >= 0 && x < scene.width as i32 && y < scene.height as i32
        };
        if !in_map(&self.player) {
            return Err(format!(
                "the player at tile {:?} is outside the {}x{} map",
                self.player.tile(),
                scene.width,
                scene.height
            ));
        }
        if let Some(n) = self.npcs.iter().find(|n| !in_map(&n.actor)) {
            return Err(format!("NPC {} is outside the map", n.name));
        }
        if let Some(n) = self.npcs.iter().find(|n| !(1..=8).contains(&n.speed)) {
            return Err(format!(
                "NPC {} has speed {}; 1 to 8 is allowed",
                n.name, n.speed
            ));
        }
        Ok(())
    }

    /// The events of the ticks since the last call.
    pub fn drain_events(&mut self) -> Vec<WorldEvent> {
        std::mem::take(&mut self.events)
    }

    /// Advances the world by one tick.
    pub fn update(&mut self, scene: &Scene, settings: &Settings, input: InputState) {
        self.move_player(scene, settings, input.held);
        for i in 0..self.npcs.len() {
            self.update_npc(scene, i);
        }
        self.check_triggers(scene, settings);
        if input.pressed.contains(Button::Action) {
            self.talk(settings);
        }
        if self
            .message
            .as_ref()
            .is_some_and(|m| m.until <= self.tick + 1)
        {
            self.message = None;
        }
        self.tick += 1;
    }

    fn move_player(&mut self, scene: &Scene, settings: &Settings, held: Buttons) {
        let held_dirs: Vec<Dir> = held.iter().filter_map(Dir::from_button).collect();
        let moved_last = self.player.moving;
        self.player.moving = false;
        match settings.walk_mode {
            WalkMode::Tile => {
                if self.player.target.is_none() {
                    let dir = match held_dirs.first() {
                        Some(d) => Some(*d),
                        None if settings.autopilot => Some(self.autopilot_choice(scene)),
                        None => None,
                    };
                    if !self.player.aligned() {
                        // Coming from pixel mode: settle on the nearest tile.
                        self.player.target = Some(nearest_tile(&self.player));
                    } else if let Some(d) = dir {
                        self.player.facing = d;
                        let (x, y) = self.player.tile();
                        let (dx, dy) = d.delta();
                        if scene.walkable(x + dx, y + dy) {
                            self.player.target = Some((x + dx, y + dy));
                        }
                    }
                }
                self.player.step_to_target(settings.walk_speed);
            }
            WalkMode::Pixel => {
                self.player.target = None;
                let dirs = if held_dirs.is_empty() && settings.autopilot {
                    let tile = self.player.tile();
                    let blocked = !moved_last;
                    if blocked || self.last_tile != Some(tile) {
                        // Decide again at each new tile, or when stuck.
                        let d = self.autopilot_choice(scene);
                        vec![d]
                    } else {
                        vec![self.autopilot_dir]
                    }
                } else {
                    held_dirs
                };
                let (mut dx, mut dy) = (0, 0);
                for d in &dirs {
                    let (x, y) = d.delta();
                    dx += x;
                    dy += y;
                }
                let (dx, dy) = (dx.signum(), dy.signum());
                let speed = if dx != 0 && dy != 0 {
                    // Diagonal: 1/√2 ≈ 181/256, so speed is the same any way.
                    (settings.walk_speed * 181 / 256).max(1)
                } else {
                    settings.walk_speed
                };
                if dy != 0 {
                    self.player.facing = if dy < 0 { Dir::Up } else { Dir::Down };
                }
                if dx != 0 {
                    self.player.facing = if dx < 0 { Dir::Left } else { Dir::Right };
                }
                let (ox, oy) = (self.player.x, self.player.y);
                self.player.x = slide(scene, self.player.x, self.player.y, dx * speed, true);
                self.player.y = slide(scene, self.player.x, self.player.y, dy * speed, false);
                let moved = (self.player.x - ox).abs() + (self.player.y - oy).abs();
                self.player.walked = self.player.walked.wrapping_add(moved as u32);
                self.player.moving = moved != 0;
            }
        }
    }

    /// The autopilot's direction: mostly straight on, sometimes a turn,
    /// never into a wall unless boxed in.
    fn autopilot_choice(&mut self, scene: &Scene) -> Dir {
        let (x, y) = self.player.tile();
        let open: Vec<Dir> = Dir::ALL
            .into_iter()
            .filter(|d| {
                let (dx, dy) = d.delta();
                scene.walkable(x + dx, y + dy)
            })
            .collect();
        if open.is_empty() {
            return self.autopilot_dir;
        }
        let straight_open = open.contains(&self.autopilot_dir);
        if !straight_open || self.autopilot.one_in(6) {
            let forward: Vec<Dir> = open
                .iter()
                .copied()
                .filter(|d| open.len() == 1 || *d != self.autopilot_dir.reverse())
                .collect();
            self.autopilot_dir = forward[self.autopilot.below(forward.len() as u32) as usize];
        }
        self.autopilot_dir
    }

    /// Whether any actor other than NPC `except` is on or stepping to a tile.
    fn occupied(&self, t: (i32, i32), except: usize) -> bool {
        if self.player.tile() == t || self.player.target == Some(t) {
            return true;
        }
        self.npcs
            .iter()
            .enumerate()
            .any(|(i, n)| i != except && (n.actor.tile() == t || n.actor.target == Some(t)))
    }

    fn update_npc(&mut self, scene: &Scene, i: usize) {
        let speed = self.npcs[i].speed as i32 * SUB;
        let npc = &mut self.npcs[i];
        npc.actor.moving = false;
        if npc.actor.target.is_some() {
            if npc.actor.step_to_target(speed) {
                npc.wait = match npc.behaviour {
                    Behaviour::Wander { pause, .. } => pause / 2 + npc.rng.below(pause + 1),
                    Behaviour::Patrol { .. } => 0,
                };
            }
            return;
        }
        if npc.wait > 0 {
            npc.wait -= 1;
            return;
        }
        let (x, y) = npc.actor.tile();
        let step = match &npc.behaviour {
            Behaviour::Wander { radius, pause } => {
                let (radius, pause) = (*radius as i32, *pause);
                let pick = npc.rng.below(5);
                match Dir::ALL.get(pick as usize) {
                    None => {
                        npc.wait = pause / 2;
                        None
                    }
                    Some(d) => {
                        let (dx, dy) = d.delta();
                        let (hx, hy) = (npc.home.0 as i32, npc.home.1 as i32);
                        let t = (x + dx, y + dy);
                        npc.actor.facing = *d;
                        if (t.0 - hx).abs() <= radius && (t.1 - hy).abs() <= radius {
                            Some(t)
                        } else {
                            None
                        }
                    }
                }
            }
            Behaviour::Patrol { waypoints, pause } => {
                let (wx, wy) = waypoints[npc.waypoint % waypoints.len()];
                let (wx, wy) = (wx as i32, wy as i32);
                if (x, y) == (wx, wy) {
                    npc.waypoint = (npc.waypoint + 1) % waypoints.len();
                    npc.wait = *pause;
                    None
                } else {
                    let horiz = (x + (wx - x).signum(), y);
                    let vert = (x, y + (wy - y).signum());
                    let candidates = [(wx != x).then_some(horiz), (wy != y).then_some(vert)];
                    match candidates
                        .into_iter()
                        .flatten()
                        .find(|t| scene.walkable(t.0, t.1))
                    {
                        Some(t) => Some(t),
                        None => {
                            // A wall in the way: give up on this waypoint.
                            npc.waypoint = (npc.waypoint + 1) % waypoints.len();
                            None
                        }
                    }
                }
            }
        };
        if let Some(t) = step {
            if scene.walkable(t.0, t.1) && !self.occupied(t, i) {
                let npc = &mut self.npcs[i];
                npc.actor.facing = match (t.0 - x, t.1 - y) {
                    (1, _) => Dir::Right,
                    (-1, _) => Dir::Left,
                    (_, -1) => Dir::Up,
                    _ => Dir::Down,
                };
                npc.actor.target = Some(t);
                npc.actor.step_to_target(speed);
            } else {
                self.npcs[i].wait = 6;
            }
        }
    }

    fn check_triggers(&mut self, scene: &Scene, settings: &Settings) {
        let tile = self.player.tile();
        if self.last_tile == Some(tile) {
            return;
        }
        self.last_tile = Some(tile);
        if tile.0 < 0 || tile.1 < 0 {
            return;
        }
        let (tx, ty) = (tile.0 as u32, tile.1 as u32);
        for (index, t) in scene.triggers.iter().enumerate() {
            if !t.contains(tx, ty) {
                continue;
            }
            let already = self.fired.contains(&index)
                || t.set_flag.as_ref().is_some_and(|f| self.flags.contains(f));
            if t.once && already {
                continue;
            }
            self.fired.insert(index);
            if let Some(flag) = &t.set_flag {
                self.flags.insert(flag.clone());
            }
            if let Some(text) = &t.message {
                self.show(text.clone(), settings);
            }
            self.events.push(WorldEvent::Trigger {
                index,
                at: (tx, ty),
                flag: t.set_flag.clone(),
                message: t.message.clone(),
            });
        }
    }

    fn talk(&mut self, settings: &Settings) {
        let me = self.player.tile();
        let (dx, dy) = self.player.facing.delta();
        let front = (me.0 + dx, me.1 + dy);
        let facing = self.player.facing;
        let Some(npc) = self
            .npcs
            .iter_mut()
            .find(|n| n.actor.tile() == front || n.actor.target == Some(front))
        else {
            return;
        };
        let Some(say) = npc.say.clone() else {
            return;
        };
        if npc.actor.target.is_none() {
            npc.actor.facing = facing.reverse();
        }
        npc.wait = npc.wait.max(settings.message_ticks as u32);
        let text = format!("{}: {}", npc.name, say);
        let name = npc.name.clone();
        self.show(text.clone(), settings);
        self.events.push(WorldEvent::Talk { npc: name, text });
    }

    fn show(&mut self, text: String, settings: &Settings) {
        self.message = Some(Message {
            text,
            until: self.tick + settings.message_ticks,
        });
    }
}

fn nearest_tile(a: &Actor) -> (i32, i32) {
    (
        (a.x + TILE_SUB / 2).div_euclid(TILE_SUB),
        (a.y + TILE_SUB / 2).div_euclid(TILE_SUB),
    )
}

/// Whether the collision box at (x, y) overlaps a solid tile or leaves the map.
fn collides(scene: &Scene, x: i32, y: i32) -> bool {
    let (l, r) = (
        (x + HIT_LEFT).div_euclid(TILE_SUB),
        (x + HIT_RIGHT - 1).div_euclid(TILE_SUB),
    );
    let (t, b) = (
        (y + HIT_TOP).div_euclid(TILE_SUB),
        (y + HIT_BOTTOM - 1).div_euclid(TILE_SUB),
    );
    (t..=b).any(|ty| (l..=r).any(|tx| !scene.walkable(tx, ty)))
}

/// Moves along one axis; on a wall, stops flush against it.
fn slide(scene: &Scene, x: i32, y: i32, d: i32, horizontal: bool) -> i32 {
    if d == 0 {
        return if horizontal { x } else { y };
    }
    let (pos, lo, hi) = if horizontal {
        (x, HIT_LEFT, HIT_RIGHT)
    } else {
        (y, HIT_TOP, HIT_BOTTOM)
    };
    let free = |p: i32| {
        if horizontal {
            !collides(scene, p, y)
        } else {
            !collides(scene, x, p)
        }
    };
    let next = pos + d;
    if free(next) {
        return next;
    }
    let flush = if d > 0 {
        (next + hi - 1).div_euclid(TILE_SUB) * TILE_SUB - hi
    } else {
        ((next + lo).div_euclid(TILE_SUB) + 1) * TILE_SUB - lo
    };
    let between = if d > 0 {
        flush >= pos && flush <= next
    } else {
        flush <= pos && flush >= next
    };
    if between && free(flush) { flush } else { pos }
}
