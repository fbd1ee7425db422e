//! The vocabulary of a community of practice: kinds of activity, repertoire entries and roles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SchemaError;

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident = $word:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and command-line word.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word,)+ }
            }

            /// The words members read in the app.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = SchemaError;
            fn from_str(s: &str) -> Result<Self, SchemaError> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok($name::$variant),)+
                    other => Err(SchemaError::UnknownWord {
                        what: $what,
                        word: other.to_owned(),
                        expected: concat!($($word, " "),+),
                    }),
                }
            }
        }
    };
}

word_enum!(
    /// What a thread is for: the activities of a community of practice.
    ActivityKind, "kind of thread", {
        /// A member brings a problem and asks for help solving it.
        Problem = "problem", "Problem solving";
        /// A member asks whether anyone has information or experience.
        Request = "request", "Request for information";
        /// News in the domain: a new law, a study, a change in practice.
        Development = "development", "Discussing developments";
        /// A member tells what happened and what they learned.
        Story = "story", "Story";
        /// Anything else the community wants to talk about.
        Discussion = "discussion", "General discussion";
    }
);

word_enum!(
    /// The kinds of thing kept in the shared repertoire.
    EntryKind, "kind of entry", {
        /// A story worth keeping.
        Story = "story", "Story";
        /// A documented case.
        Case = "case", "Case";
        /// A tool, template or checklist.
        Tool = "tool", "Tool";
        /// A method or way of working.
        Method = "method", "Method";
        /// A lesson learned.
        Lesson = "lesson", "Lesson learned";
        /// A reference document.
        Document = "document", "Document";
    }
);

word_enum!(
    /// What a member may do. Participation levels (core, active, peripheral) are computed from
    /// activity and are not roles.
    Role, "role", {
        /// Keeps the charter and the roster, invites members.
        Coordinator = "coordinator", "Coordinator";
        /// Takes part: writes threads, replies and repertoire.
        Member = "member", "Member";
        /// Reads only.
        Observer = "observer", "Observer";
    }
);

word_enum!(
    /// The kinds of Automerge document a community is split into.
    DocKind, "kind of document", {
        /// Charter and roster: written by coordinators only.
        Community = "community", "Community";
        /// One thread with its replies.
        Thread = "thread", "Thread";
        /// One repertoire entry.
        Entry = "entry", "Repertoire entry";
        /// One event (or a recurring series of them).
        Event = "event", "Event";
    }
);

word_enum!(
    /// What kind of gathering an event is: the community's rhythm.
    EventKind, "kind of event", {
        /// A meeting in person.
        Meeting = "meeting", "Meeting";
        /// A call or video call.
        Call = "call", "Call";
        /// A hands-on workshop.
        Workshop = "workshop", "Workshop";
        /// A session at a conference.
        Session = "session", "Conference session";
    }
);

word_enum!(
    /// A member's answer to an event, or their record of having been there.
    RsvpStatus, "answer", {
        /// Will be there.
        Going = "going", "Going";
        /// Might be there.
        Maybe = "maybe", "Maybe";
        /// Will not be there.
        No = "no", "Not going";
        /// Was there.
        Attended = "attended", "Attended";
    }
);

impl Role {
    /// Whether this role may write threads and repertoire entries.
    pub fn can_contribute(self) -> bool {
        matches!(self, Role::Coordinator | Role::Member)
    }
}

impl DocKind {
    /// A stable one-byte code, bound into every change signature.
    pub fn code(self) -> u8 {
        match self {
            DocKind::Community => 1,
            DocKind::Thread => 2,
            DocKind::Entry => 3,
            DocKind::Event => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for k in ActivityKind::ALL {
            assert_eq!(k.as_str().parse::<ActivityKind>().unwrap(), *k);
        }
        for k in EntryKind::ALL {
            assert_eq!(k.as_str().parse::<EntryKind>().unwrap(), *k);
        }
        let err = "poem".parse::<EntryKind>().unwrap_err().to_string();
        assert!(err.contains("story case tool"), "{err}");
    }
}
