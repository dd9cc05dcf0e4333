//! What a token may do: four tiers, each allowing all the ones below it.
//! Every method has a tier ([`MethodSpec::tier`](super::MethodSpec),
//! shown by `rpc.discover`); a connection holds the tier of the token it
//! authenticated with (the Unix socket's owner holds `admin`), and a call
//! above it is refused with [`codes::FORBIDDEN`](super::codes::FORBIDDEN),
//! naming both.

use serde::{Deserialize, Serialize};

use super::error::{RpcError, codes};
use super::method;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Read-only methods, frames and events.
    Observe,
    /// Also params.
    Tune,
    /// Also input, pause, resume, step, and the debugger's seek, until
    /// and watch.
    Drive,
    /// Everything: reboot, shutdown, `world.set`, `world.load`, and the
    /// game's own methods unless they say otherwise.
    Admin,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Observe, Tier::Tune, Tier::Drive, Tier::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Observe => "observe",
            Tier::Tune => "tune",
            Tier::Drive => "drive",
            Tier::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tier of a method every engine may answer, by name; `None` for
    /// a game's own (admin, unless it is read-only or says otherwise).
    pub fn of_standard(name: &str) -> Option<Tier> {
        use method::*;
        Some(match name {
            HELLO | AUTH | DISCOVER | PARAMS_LIST | PARAMS_GET | STATS | SNAPSHOT | SUBSCRIBE
            | UNSUBSCRIBE | HISTORY | WORLD_DIFF | ENTITIES | WORLD_GET | WORLD_PICK
            | WORLD_SAVE | FRAMES_SUBSCRIBE | FRAMES_ACK | FRAMES_UNSUBSCRIBE => Tier::Observe,
            PARAMS_SET | PARAMS_RESET | PARAMS_SAVE | PARAMS_LOAD => Tier::Tune,
            PAUSE | RESUME | STEP | INPUT | SEEK | RUN_UNTIL | WATCH => Tier::Drive,
            SHUTDOWN | REBOOT | WORLD_SET | WORLD_LOAD => Tier::Admin,
            _ => return None,
        })
    }
}

impl Tier {
    /// The tier of `given` among `tokens`: the highest of those it
    /// matches. Surrounding whitespace is not part of a token (a token
    /// file ends in a newline, which `$(cat file)` drops but a file read as
    /// is keeps). Every token is compared, each in constant time, so the
    /// time taken says nothing of which (if any) matched.
    pub fn of_token(tokens: &[(Tier, String)], given: &str) -> Option<Tier> {
        let given = given.trim().as_bytes();
        tokens.iter().fold(None, |best, (tier, token)| {
            if constant_time_eq(token.as_bytes(), given) {
                best.max(Some(*tier))
            } else {
                best
            }
        })
    }

    /// The refusal of `method`, which needs `needs`, to a connection that
    /// holds `holds`: −32012 naming both.
    pub fn refusal(method: &str, needs: Tier, holds: Tier) -> RpcError {
        RpcError::new(
            codes::FORBIDDEN,
            format!(
                "{method} needs a token of tier {needs} or above; this connection's is {holds} \
                 (tiers: observe < tune < drive < admin; ask the engine's owner for one)"
            ),
        )
        .with_data(serde_json::json!({"needs": needs, "holds": holds}))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Tier, String> {
        Tier::parse(s)
            .ok_or_else(|| format!("unknown tier {s:?}; choose from observe, tune, drive, admin"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_ordered_and_round_trip_by_name() {
        assert!(Tier::Observe < Tier::Tune && Tier::Tune < Tier::Drive);
        assert!(Tier::Drive < Tier::Admin);
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.name()), Some(t));
            assert_eq!(serde_json::to_value(t).expect("serialises"), t.name());
        }
        assert_eq!(Tier::of_standard(method::PAUSE), Some(Tier::Drive));
        assert_eq!(Tier::of_standard(method::SHUTDOWN), Some(Tier::Admin));
        assert_eq!(Tier::of_standard("game.jump"), None);
        let tokens = [
            (Tier::Observe, "aaaa".to_owned()),
            (Tier::Admin, "bbbb".to_owned()),
        ];
        assert_eq!(Tier::of_token(&tokens, "bbbb\n"), Some(Tier::Admin));
        assert_eq!(Tier::of_token(&tokens, " aaaa"), Some(Tier::Observe));
        assert_eq!(Tier::of_token(&tokens, "aaa"), None);
    }
}
