//! The community and its roster: `community create|list|show`, `member …`, `members`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use commonplace_model::Role;
use commonplace_node::NewCommunity;

use crate::{Ctx, health};

#[derive(Debug, Args)]
pub(crate) struct CommunityArg {
    /// The community (id, id prefix or name); optional when the profile has only one.
    #[arg(long, short = 'c')]
    pub(crate) community: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CommunityCmd {
    /// Found a community; you become its first coordinator. Prints the community id.
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// The shared domain, in a sentence or two.
        #[arg(long, default_value = "")]
        domain: String,
        /// A key issue (repeat for several).
        #[arg(long = "issue")]
        issues: Vec<String>,
        /// A value the community holds (repeat for several).
        #[arg(long = "value")]
        values: Vec<String>,
        /// A topic (repeat for several).
        #[arg(long = "topic")]
        topics: Vec<String>,
    },
    /// Communities in this profile.
    List,
    /// A community's charter and figures.
    Show {
        /// The community (id, id prefix or name).
        community: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum MemberCmd {
    /// The roster.
    List {
        #[command(flatten)]
        community: CommunityArg,
        /// Show participation levels (core, active, peripheral, inactive).
        #[arg(long)]
        levels: bool,
    },
    /// Show or set the participation thresholds (setting: coordinators only).
    Thresholds(health::ThresholdArgs),
    /// Add a member (coordinators only).
    Add {
        /// Their member id (they get it from `commonplace whoami`).
        member: String,
        /// Their name.
        #[arg(long)]
        name: String,
        /// coordinator, member or observer.
        #[arg(long, default_value = "member")]
        role: Role,
        #[command(flatten)]
        community: CommunityArg,
    },
    /// Change a member's role (coordinators only).
    Role {
        /// The member (id, prefix or name).
        member: String,
        /// coordinator, member or observer.
        role: Role,
        #[command(flatten)]
        community: CommunityArg,
    },
    /// Remove a member; their past contributions stay (coordinators only).
    Remove {
        /// The member (id, prefix or name).
        member: String,
        #[command(flatten)]
        community: CommunityArg,
    },
}

pub(crate) fn community(cx: &Ctx, cmd: CommunityCmd) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    match cmd {
        CommunityCmd::Create {
            name,
            domain,
            issues,
            values,
            topics,
        } => {
            let id = node.create_community(&NewCommunity {
                name,
                domain,
                issues,
                values,
                topics,
            })?;
            out.created("community", &id.to_string())
        }
        CommunityCmd::List => out.communities(&node.communities()?),
        CommunityCmd::Show { community } => {
            let id = node.find_community(community.as_deref())?;
            let overview = node
                .communities()?
                .into_iter()
                .find(|c| c.id == id)
                .context("community vanished")?;
            out.community(&node.community(&id)?, &overview)
        }
    }
}

pub(crate) fn member(cx: &Ctx, cmd: MemberCmd) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    match cmd {
        MemberCmd::List { community, levels } => members(cx, &community, levels),
        MemberCmd::Thresholds(args) => health::thresholds(cx, args),
        MemberCmd::Add {
            member,
            name,
            role,
            community,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let m = member.parse().map_err(|e| {
                anyhow::anyhow!("{e}: pass the full member id from `commonplace whoami`")
            })?;
            node.add_member(&c, &m, &name, role)?;
            out.done(&format!("added {name} as {role}"))
        }
        MemberCmd::Role {
            member,
            role,
            community,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let m = node.find_member(&c, &member)?;
            node.set_role(&c, &m, role)?;
            out.done(&format!("{} is now {role}", m.short()))
        }
        MemberCmd::Remove { member, community } => {
            let c = node.find_community(community.community.as_deref())?;
            let m = node.find_member(&c, &member)?;
            node.remove_member(&c, &m)?;
            out.done(&format!("removed {}", m.short()))
        }
    }
}

/// The roster; with `levels`, everyone's participation level.
pub(crate) fn members(cx: &Ctx, community: &CommunityArg, levels: bool) -> Result<()> {
    let c = cx.node.find_community(community.community.as_deref())?;
    if levels {
        health::levels(cx, &c)
    } else {
        cx.out.members(&cx.node.members(&c)?)
    }
}
