//! `riskdesk encryption …`: the key file and the re-sealing of stored data, for the operator.
//! Key ids are the first four bytes of a hash of the key (they show which key sealed a value,
//! never the key itself).

use crate::app;
use crate::config::Config;
use crate::encryption::{self, KeyFile};
use anyhow::bail;
use clap::Subcommand;
use riskdesk_service::audit::Actor;
use riskdesk_service::encryption::ResealReport;
use riskdesk_store::seal::KeyId;

#[derive(Subcommand)]
pub enum EncryptionCmd {
    /// The keys, and per sealed column the rows not yet under the primary key.
    Status,
    /// A new primary key; the old one stays to open what it sealed. Stored data is then sealed
    /// again under the new key (running servers do it too, once they reload the file).
    Rotate {
        /// Only write the key file; leave re-sealing to the running servers.
        #[arg(long)]
        no_reseal: bool,
    },
    /// A new key that opens but does not seal yet: with several servers, add first, let every
    /// server reload, then promote.
    Add,
    /// Makes a key of the file the primary one.
    Promote { key_id: String },
    /// Seals every stored value not under the primary key again under it.
    Reseal,
    /// Drops a key from the file, once nothing is sealed under it.
    Retire { key_id: String },
}

fn print_report(r: &ResealReport) {
    println!("primary key: {}", r.primary.as_deref().unwrap_or("none (encryption off)"));
    println!("keys:        {}", r.keys.join(" "));
    println!("{:<36} {:>10} {:>10} {:>10}", "column", "rows", "stale", "resealed");
    for c in &r.columns {
        println!("{:<36} {:>10} {:>10} {:>10}", c.field, c.rows, c.stale, c.resealed);
    }
    println!("{:<36} {:>10} {:>10} {:>10}", "total", r.rows(), r.stale(), r.resealed());
}

fn find(file: &KeyFile, id: &str) -> anyhow::Result<[u8; 32]> {
    match file.primary.iter().chain(&file.others).find(|k| KeyId::of(k).hex() == id.to_ascii_lowercase()) {
        Some(k) => Ok(*k),
        None => bail!("no key {id} in the key file (see `riskdesk encryption status`)"),
    }
}

pub async fn encryption(cfg: &Config, cmd: EncryptionCmd) -> anyhow::Result<()> {
    let path = encryption::key_path(cfg);
    match cmd {
        EncryptionCmd::Status => {
            let svc = app::open_service(cfg).await?;
            println!("key file:    {}", path.display());
            print_report(&svc.reseal(&Actor::cli(), false).await?);
        }
        EncryptionCmd::Rotate { no_reseal } => {
            let mut file = encryption::read_or_create(cfg)?;
            let key = encryption::new_key()?;
            if let Some(old) = file.primary.replace(key) {
                file.others.insert(0, old);
            }
            encryption::write(cfg, &file)?;
            println!("new primary key {} in {}", KeyId::of(&key), path.display());
            if !no_reseal {
                let svc = app::open_service(cfg).await?;
                print_report(&svc.reseal(&Actor::cli(), true).await?);
            }
        }
        EncryptionCmd::Add => {
            let mut file = encryption::read_or_create(cfg)?;
            let key = encryption::new_key()?;
            file.others.push(key);
            encryption::write(cfg, &file)?;
            println!("added key {} (not yet primary) to {}", KeyId::of(&key), path.display());
        }
        EncryptionCmd::Promote { key_id } => {
            let mut file = encryption::read_or_create(cfg)?;
            let key = find(&file, &key_id)?;
            file.others.retain(|k| *k != key);
            if let Some(old) = file.primary.replace(key)
                && old != key
            {
                file.others.insert(0, old);
            }
            encryption::write(cfg, &file)?;
            println!("key {} is the primary key", KeyId::of(&key));
        }
        EncryptionCmd::Reseal => {
            let svc = app::open_service(cfg).await?;
            print_report(&svc.reseal(&Actor::cli(), true).await?);
        }
        EncryptionCmd::Retire { key_id } => {
            let mut file = encryption::read_or_create(cfg)?;
            let key = find(&file, &key_id)?;
            if file.primary == Some(key) {
                bail!("key {key_id} is the primary key: rotate or promote another first");
            }
            let svc = app::open_service(cfg).await?;
            let report = svc.reseal(&Actor::cli(), false).await?;
            if report.stale() > 0 {
                bail!(
                    "{} stored values are not under the primary key yet: run `riskdesk encryption reseal` first",
                    report.stale()
                );
            }
            file.others.retain(|k| *k != key);
            encryption::write(cfg, &file)?;
            println!("key {} retired", KeyId::of(&key));
        }
    }
    Ok(())
}
