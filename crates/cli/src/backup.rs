//! `commonplace backup` and `commonplace restore`: the member's key, sealed under a
//! passphrase. The passphrase comes from a prompt on the terminal (not echoed), or for
//! scripts from `--passphrase-file` or `$COMMONPLACE_PASSPHRASE`; it is never an argument,
//! where other local users could read it in the process list.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use commonplace_base::check_passphrase;
use commonplace_node::{Node, Profile, io_sentence, read_key_backup};
use zeroize::Zeroizing;

use crate::Ctx;
use crate::output::Out;

/// The environment variable a script may put the passphrase in.
const PASSPHRASE_ENV: &str = "COMMONPLACE_PASSPHRASE";

#[derive(Debug, Args)]
pub(crate) struct PassphraseArgs {
    /// Read the passphrase from the first line of FILE (for scripts). Without it:
    /// $COMMONPLACE_PASSPHRASE, else a prompt on the terminal.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// Where to write the backup (an existing file is replaced, atomically).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// Your name as other members will see it.
    #[arg(long)]
    name: String,
    /// Your region.
    #[arg(long)]
    region: Option<String>,
    /// Your organisation.
    #[arg(long)]
    organisation: Option<String>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

impl BackupArgs {
    pub(crate) fn passphrase(&self) -> &PassphraseArgs {
        &self.passphrase
    }

    pub(crate) fn resolve_paths(&mut self, cwd: &Path) {
        self.out = cwd.join(&self.out);
        if let Some(p) = &mut self.passphrase.passphrase_file {
            *p = cwd.join(&*p);
        }
    }
}

/// Seals the key under a new passphrase and writes it to `--out`.
pub(crate) fn backup(cx: &Ctx, args: BackupArgs) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    let pass = match cx.input {
        // A control-socket client asked for it (it has the terminal) and sent it.
        crate::Input::Sent {
            passphrase: Some(p),
            ..
        } => {
            check_passphrase(p)?;
            p.clone()
        }
        _ => passphrase(&args.passphrase, true)?,
    };
    node.backup_key(&args.out, &pass)?;
    if !out.json {
        note!(
            out,
            "Keep the passphrase apart from the file: with both, anyone can act as you. \
             Without the passphrase the backup cannot be opened."
        );
    }
    out.done(&format!(
        "backed up the key of {} to {}",
        node.member_id().short(),
        args.out.display()
    ))
}

/// Creates this profile's identity from a backup file.
pub(crate) fn restore(profile: Profile, args: RestoreArgs, out: &Out) -> Result<()> {
    let file = read_key_backup(&args.file)?;
    let pass = if file.is_sealed() {
        passphrase(&args.passphrase, false)?
    } else {
        note!(
            out,
            "{} is an old backup without a passphrase: make a protected one now with \
             `commonplace backup --out FILE`, then delete the old file.",
            args.file.display()
        );
        Zeroizing::new(String::new())
    };
    let node = Node::restore(
        profile,
        &file,
        &pass,
        &args.name,
        args.region.as_deref(),
        args.organisation.as_deref(),
    )?;
    out.identity(&node.identity()?, true)
}

/// The passphrase, from the file, the environment or the terminal. A new passphrase
/// (`confirm`) is checked against the rules before it is asked again.
pub(crate) fn passphrase(args: &PassphraseArgs, confirm: bool) -> Result<Zeroizing<String>> {
    let pass = if let Some(path) = &args.passphrase_file {
        from_file(path)?
    } else if let Some(v) = std::env::var_os(PASSPHRASE_ENV) {
        match v.into_string() {
            Ok(s) => Zeroizing::new(s),
            Err(_) => bail!("${PASSPHRASE_ENV} is not valid text"),
        }
    } else {
        let prompt = if confirm {
            "New backup passphrase (at least 8 characters): "
        } else {
            "Backup passphrase: "
        };
        let first = ask(prompt)?;
        if confirm {
            check_passphrase(&first)?;
            let again = ask("The same passphrase again: ")?;
            if *again != *first {
                bail!("the two passphrases differ; nothing was written");
            }
        }
        first
    };
    if confirm {
        check_passphrase(&pass)?;
    }
    Ok(pass)
}

fn ask(prompt: &str) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|_| {
            anyhow::anyhow!(
                "there is no terminal to ask for the passphrase: give it with \
                 --passphrase-file FILE or ${PASSPHRASE_ENV}"
            )
        })
}

fn from_file(path: &Path) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}", io_sentence(&path.display().to_string(), &e)))?,
    );
    let line = text.lines().next().unwrap_or("");
    Ok(Zeroizing::new(line.to_owned()))
}
