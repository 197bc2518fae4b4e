//! `riskdesk`: the one binary. Subcommands share `--config`, `--data-dir` and `--database-url`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use riskdesk_server::config::{Config, DEFAULT_FILE, Overrides};
use riskdesk_server::rules_cli::{self, BacktestArgs, ListsCmd, RulesCmd};
use riskdesk_server::{app, demo, import, serve};
use riskdesk_service::Scope;
use std::path::PathBuf;

/// mimalloc: parsing and import allocate many small strings across threads, where it is
/// markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "riskdesk",
    version,
    about = "Risk operations for e-commerce: order screening, reviews, cases, privacy, disputes"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalArgs {
    /// Configuration file (default: ./riskdesk.toml when it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Directory of the SQLite database and the entity key [default: ./riskdesk-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of SQLite (also RISKDESK_DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import orders or events from JSONL (intake-v1, one per line) or CSV.
    Import {
        #[arg(value_enum)]
        kind: import::Kind,
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = import::Format::Auto)]
        format: import::Format,
        /// Where rejected lines are reported [default: FILE.rejected.csv].
        #[arg(long)]
        report: Option<PathBuf>,
        /// Lines per transaction.
        #[arg(long, default_value_t = 5000)]
        batch_size: usize,
        /// Do not draw a progress bar.
        #[arg(long)]
        no_progress: bool,
        /// Drop secondary indexes during the load and rebuild them after: much faster for large
        /// loads; lookups are slow meanwhile. auto: when the file outweighs what is stored.
        #[arg(long, value_enum, default_value_t = import::Bulk::Auto)]
        bulk: import::Bulk,
    },
    /// Generate a fashion shop's history with planted fraud, load it, and serve it.
    Demo(demo::DemoArgs),
    /// Rule sets: validate, backtest, publish, roll back, shadow.
    Rules {
        #[command(subcommand)]
        action: RulesCmd,
    },
    /// Cases: list, show, open, run the SLA watch.
    Cases {
        #[command(subcommand)]
        action: riskdesk_server::cases_cli::CasesCmd,
    },
    /// Disputes: list, show, import a provider report, write a pack, scheme ratios, run the watch.
    Disputes {
        #[command(subcommand)]
        action: riskdesk_server::disputes_cli::DisputesCmd,
    },
    /// Quality assurance: import handlings, the inbox, the dashboard, provider and team members.
    Qa {
        #[command(subcommand)]
        action: riskdesk_server::qa_cli::QaCmd,
    },
    /// KPIs: the table by segment, counting, rebuilding, trend alerts, reports.
    Kpis {
        #[command(subcommand)]
        action: riskdesk_server::kpis_cli::KpisCmd,
    },
    /// Privacy operations: requests by days left, entering one, the access package, jobs,
    /// retention sweeps, records of processing, breaches.
    Privacy {
        #[command(subcommand)]
        action: riskdesk_server::privacy_cli::PrivacyCmd,
    },
    /// Encryption at rest: the key file, rotation without downtime, re-sealing stored data.
    Encryption {
        #[command(subcommand)]
        action: riskdesk_server::encryption_cli::EncryptionCmd,
    },
    /// Knowledge pages: list, save a Markdown file as a page's next version.
    Knowledge {
        #[command(subcommand)]
        action: riskdesk_server::cases_cli::KnowledgeCmd,
    },
    /// Block and allow lists.
    Lists {
        #[command(subcommand)]
        action: ListsCmd,
    },
    /// Replay stored history with a rule file (the same as `rules backtest`).
    Backtest(BacktestArgs),
    /// Decisions for a JSONL file of orders, screened in time order (JSONL out).
    Score {
        file: PathBuf,
        /// Rule file to use instead of the live rule set (then no database is needed).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Where to write the decisions [default: stdout].
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Detection quality on the public e-commerce fraud data set: ROC-AUC and AUPRC of the score,
    /// screening in time order, tuned on the first 70 % of the timeline, reported on the last 30 %.
    Eval {
        /// Directory with fraud_data_30k.csv and ip_to_country_partial.csv.
        #[arg(long, default_value = "../shared/data/ecommerce-fraud")]
        data: PathBuf,
        /// Rule file to evaluate [default: rules/eval-ecommerce-fraud.toml, built in].
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Manage API keys of machine clients.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Manage the people who sign in to the web UI.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// The hash-chained audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Print the commented default configuration, or the effective one (JSON, secrets hidden).
    Config {
        #[arg(value_enum, default_value_t = ConfigAction::Default)]
        action: ConfigAction,
    },
}

#[derive(Subcommand)]
enum ApikeyAction {
    /// Create a key; the secret is printed once and only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// What the key may do (intake, read, rules, cases, disputes, qa, kpis, privacy: the
        /// service's list of scopes); repeatable.
        #[arg(long = "scope", required = true, value_parser = scope_arg)]
        scopes: Vec<Scope>,
    },
    List,
    Revoke {
        id: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user. The password is read from standard input with --password-stdin, otherwise
    /// a random one is generated and printed once.
    Add {
        username: String,
        #[arg(long)]
        role: String,
        /// Display name [default: the username].
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    /// Change a user's role.
    SetRole {
        username: String,
        #[arg(long)]
        role: String,
    },
    /// Set a new password, read from standard input.
    SetPassword {
        username: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        username: String,
    },
    /// Personal access tokens: act as the user, with their role, on the API.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token for USERNAME and print it once.
    Create {
        username: String,
        /// What the token is for [default: "cli"].
        #[arg(long)]
        name: Option<String>,
        /// Lifetime, like 30d or 12h [default: 30d]; "never" for none.
        #[arg(long, default_value = "30d")]
        expires_in: String,
    },
    /// A user's tokens (never their secrets).
    List { username: String },
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check every record's hash and link and the chain's head; exits 1 if anything is wrong.
    /// Prints the head (`SEQ:HASH`); keep it outside the database and pass it back with
    /// `--anchor` to detect the newest rows being deleted together with the head.
    Verify {
        #[arg(long)]
        anchor: Option<String>,
    },
}

fn scope_arg(s: &str) -> Result<Scope, String> {
    Scope::parse(s).ok_or_else(|| format!("unknown scope {s}; one of {}", Scope::ALL.map(Scope::as_str).join(", ")))
}

#[derive(Clone, Copy, ValueEnum)]
enum ConfigAction {
    Default,
    Show,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Config { action: ConfigAction::Default } = cli.command {
        print!("{DEFAULT_FILE}");
        return Ok(());
    }
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        Command::Demo(d) => d.listen.clone(),
        _ => None,
    };
    let overrides =
        Overrides { data_dir: cli.global.data_dir.clone(), database_url: cli.global.database_url.clone(), listen };
    let cfg = Config::load(cli.global.config.as_deref(), &overrides)?;
    riskdesk_server::logging::init(&cfg)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(run(cli.command, cfg))
}

async fn run(command: Command, cfg: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => {
            let service = app::open_service(&cfg).await?;
            serve::serve(service, &cfg, None).await
        }
        Command::Migrate => {
            app::open_store(&cfg).await?;
            println!("migrations applied ({})", if cfg.uses_postgres() { "postgres" } else { "sqlite" });
            Ok(())
        }
        Command::Import { kind, file, format, report, batch_size, no_progress, bulk } => {
            let service = app::open_service(&cfg).await?;
            let report = report.unwrap_or_else(|| import::default_report_path(&file));
            let opts =
                import::Options { kind, bulk, format, batch_size: batch_size.max(1), progress: !no_progress, report };
            let summary = import::run(&service, &file, &opts).await?;
            println!("{summary}");
            Ok(())
        }
        Command::Demo(args) => demo::run(&cfg, args).await,
        Command::Rules { action } => rules_cli::rules(&cfg, action).await,
        Command::Lists { action } => rules_cli::lists(&cfg, action).await,
        Command::Cases { action } => riskdesk_server::cases_cli::cases(&cfg, action).await,
        Command::Knowledge { action } => riskdesk_server::cases_cli::knowledge(&cfg, action).await,
        Command::Disputes { action } => riskdesk_server::disputes_cli::disputes(&cfg, action).await,
        Command::Qa { action } => riskdesk_server::qa_cli::qa(&cfg, action).await,
        Command::Kpis { action } => riskdesk_server::kpis_cli::kpis(&cfg, action).await,
        Command::Privacy { action } => riskdesk_server::privacy_cli::privacy(&cfg, action).await,
        Command::Encryption { action } => riskdesk_server::encryption_cli::encryption(&cfg, action).await,
        Command::Backtest(args) => {
            let service = app::open_service(&cfg).await?;
            rules_cli::backtest(&cfg, &service, args).await
        }
        Command::Eval { data, rules } => riskdesk_server::eval::run(&data, rules.as_deref()),
        Command::Score { file, rules, output } => {
            rules_cli::score(&cfg, &file, rules.as_deref(), output.as_deref()).await
        }
        Command::Apikey { action } => {
            let service = app::open_service(&cfg).await?;
            match action {
                ApikeyAction::Create { name, scopes } => {
                    let key = service.create_api_key(&name, &scopes).await?;
                    eprintln!(
                        "created {} ({}) with scopes {}; the secret is shown only now:",
                        key.record.id,
                        name,
                        key.record.scopes.join(",")
                    );
                    println!("{}", key.secret);
                }
                ApikeyAction::List => {
                    for k in service.list_api_keys().await? {
                        let state = k.revoked_at.map_or("active".to_owned(), |t| format!("revoked {}", t.to_rfc3339()));
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            k.id,
                            k.name,
                            k.scopes.join(","),
                            k.created_at.to_rfc3339(),
                            state
                        );
                    }
                }
                ApikeyAction::Revoke { id } => {
                    let id = riskdesk_domain::ApiKeyId::parse(&id).context("not an API key id (key_…)")?;
                    anyhow::ensure!(service.revoke_api_key(&id).await?, "no active key {id}");
                    println!("revoked {id}");
                }
            }
            Ok(())
        }
        Command::User { action } => user_cli(&cfg, action).await,
        Command::Audit { action: AuditAction::Verify { anchor } } => {
            let service = app::open_service(&cfg).await?;
            let cap = riskdesk_service::access::local::audit_reader();
            let report = service.verify_audit(&cap).await?;
            let head_hash = service.audit_hash_at(&cap, report.head_seq).await?.map(hex::encode).unwrap_or_default();
            if let Some(a) = anchor {
                let (seq, hash) = a.split_once(':').ok_or_else(|| anyhow::anyhow!("--anchor must be SEQ:HASH"))?;
                let seq: i64 = seq.parse().context("--anchor: SEQ must be a number")?;
                let found = service.audit_hash_at(&cap, seq).await?.map(hex::encode);
                if found.as_deref() != Some(hash) {
                    println!("audit log BROKEN: record {seq} does not match the anchor (found {found:?})");
                    std::process::exit(1);
                }
                println!("anchor {seq} matches");
            }
            if report.problems.is_empty() {
                println!("audit log intact: {} records, head at {}", report.records, report.head_seq);
                println!("anchor: {}:{head_hash}", report.head_seq);
                Ok(())
            } else {
                println!("audit log BROKEN: {} problem(s) in {} records", report.problems.len(), report.records);
                for p in &report.problems {
                    println!("  {}", serde_json::to_string(p)?);
                }
                std::process::exit(1);
            }
        }
        Command::Config { .. } => {
            println!("{}", serde_json::to_string_pretty(&cfg.redacted())?);
            Ok(())
        }
    }
}

fn parse_role(s: &str) -> anyhow::Result<riskdesk_domain::Role> {
    use riskdesk_domain::Role;
    Role::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        anyhow::anyhow!("--role must be one of {}", all.join(", "))
    })
}

async fn user_cli(cfg: &Config, action: UserAction) -> anyhow::Result<()> {
    let service = app::open_service(cfg).await?;
    let cap = riskdesk_service::access::local::user_admin();
    match action {
        UserAction::Add { username, role, name, password_stdin } => {
            let role = parse_role(&role)?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                let mut raw = [0u8; 15];
                getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
                (hex::encode(raw), true)
            };
            let u = service.add_user(&cap, &username, name.as_deref().unwrap_or(&username), role, &password).await?;
            println!("added {} ({})", u.username, u.role);
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserAction::List => {
            for u in service.users(&cap).await? {
                println!("{}\t{}\t{}\t{}", u.username, u.role, u.display_name, u.created_at.to_rfc3339());
            }
        }
        UserAction::SetRole { username, role } => {
            service.set_role(&cap, &username, parse_role(&role)?).await?;
            println!("{username} is now {role}");
        }
        UserAction::SetPassword { username } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            service.set_password(&cap, &username, line.trim_end_matches(['\r', '\n'])).await?;
            println!("password of {username} changed");
        }
        UserAction::Disable { username } => {
            service.disable_user(&cap, &username).await?;
            println!("{username} disabled; their sessions have ended");
        }
        UserAction::Token { action: TokenAction::Create { username, name, expires_in } } => {
            let life = match expires_in.as_str() {
                "never" => None,
                t => Some(riskdesk_service::identity::parse_lifetime(t)?),
            };
            let t = service.create_token_for(&cap, &username, name.as_deref().unwrap_or("cli"), life).await?;
            let until = t.record.expires_at.map_or_else(|| "never".to_owned(), |e| e.to_rfc3339());
            println!("token {} for {username}, expires {until}", t.record.id);
            println!("secret (shown once): {}", t.secret);
        }
        UserAction::Token { action: TokenAction::List { username } } => {
            for t in service.tokens_for(&cap, &username).await? {
                let state = if t.revoked_at.is_some() { "revoked" } else { "active" };
                let until = t.expires_at.map_or_else(|| "never".to_owned(), |e| e.to_rfc3339());
                println!("{}\t{}\t{}\texpires {}\t{}", t.id, t.name, t.created_at.to_rfc3339(), until, state);
            }
        }
        UserAction::Token { action: TokenAction::Revoke { id } } => {
            service.revoke_token_as(&cap, &id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
