//! `halve serve` and `halve user`: starting the web app, and creating the accounts that sign
//! in to it. The app itself, its access rules and the account checks live in `halve-web`.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use halve_app::clock::{Clock, SystemClock};
use halve_measure::Spec;
use halve_store::Store;
use halve_web::accounts::AccountRequest;
use halve_web::{AppState, Config};

/// Whether session cookies get the `Secure` flag (sent over HTTPS only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SecureCookies {
    /// Secure unless the server listens on loopback (plain HTTP on this machine only).
    Auto,
    Always,
    Never,
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Measurement spec of the dashboard and the assessment form: a shipped profile name or a
    /// TOML file.
    #[arg(long, default_value = "tpmap-5")]
    pub spec: String,
    /// Whether cookies carry the Secure flag; `auto`: unless served on loopback without a
    /// trusted proxy in front (a proxy is assumed to terminate HTTPS).
    #[arg(long, value_enum, default_value_t = SecureCookies::Auto)]
    pub secure_cookies: SecureCookies,
    /// A reverse proxy in front of the app (repeatable): its X-Forwarded-For names the client
    /// for sign-in throttling. From any other peer the header is ignored.
    #[arg(long = "trusted-proxy", value_name = "ADDR")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl ServeArgs {
    pub fn with_bind(bind: SocketAddr) -> ServeArgs {
        ServeArgs {
            bind,
            spec: "tpmap-5".into(),
            secure_cookies: SecureCookies::Auto,
            trusted_proxies: Vec::new(),
        }
    }
}

fn load_spec(name: &str) -> Result<Spec> {
    let text = match halve_app::measure::shipped_spec(name) {
        Some(text) if !std::path::Path::new(name).exists() => text.to_owned(),
        _ => std::fs::read_to_string(name).with_context(|| format!("cannot read spec {name}"))?,
    };
    Ok(Spec::from_toml_str(&text, name)?)
}

/// Builds the app on `store` and serves it until the process is stopped. `banner` is printed
/// once the address is bound (the demo's login).
pub async fn serve(store: Store, args: &ServeArgs, banner: Option<String>) -> Result<()> {
    // A spec named by id starts on its newest version, stored (edited in the app) or
    // shipped; a file is read as it is. The target likewise.
    let spec = match halve_app::versions::newest_spec(&store, &args.spec).await? {
        Some(spec) if !std::path::Path::new(&args.spec).exists() => spec,
        _ => load_spec(&args.spec)?,
    };
    let mut config = Config::new(spec);
    if let Some(target) =
        halve_app::versions::newest_target(&store, halve_app::target::DEFAULT_TARGET).await?
    {
        config.target = target;
    }
    config.secure_cookies = match args.secure_cookies {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => !args.bind.ip().is_loopback() || !args.trusted_proxies.is_empty(),
    };
    config.trusted_proxies = args.trusted_proxies.clone();
    let state = AppState::new(store, Arc::new(SystemClock), config)
        .await
        .context("reading the registry for the web app")?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    println!("halve พร้อมใช้ที่ (is serving at) http://{addr}/");
    if let Some(banner) = banner {
        println!("{banner}");
    }
    println!("กด Ctrl+C เพื่อหยุด (press Ctrl+C to stop)");
    std::io::stdout().flush()?;
    halve_web::serve(state, listener).await?;
    Ok(())
}

#[derive(Subcommand, Clone, Debug)]
pub enum UserCommand {
    /// เพิ่มบัญชีผู้ใช้ (add an account; the password is read from HALVE_PASSWORD or the first line of standard input)
    Add {
        username: String,
        /// admin, coordinator, zone_worker, viewer or partner.
        #[arg(long)]
        role: String,
        /// For `--role partner`: the code of the partner agency the account answers for (it
        /// sees only the referrals sent to that partner).
        #[arg(long)]
        partner: Option<String>,
        /// Eco-zone codes a zone worker works in (repeatable): mountain, uplands, coast, basin, peat, city.
        #[arg(long = "zone")]
        zones: Vec<String>,
        /// Area codes (province to village) a zone worker works in (repeatable).
        #[arg(long = "area")]
        areas: Vec<String>,
        /// The name shown in the app.
        #[arg(long)]
        name: Option<String>,
    },
    /// แสดงบัญชีผู้ใช้ทั้งหมด (list the accounts)
    List,
}

fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("HALVE_PASSWORD") {
        return Ok(p);
    }
    eprint!("รหัสผ่าน (password): ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("ไม่ได้ใส่รหัสผ่าน (no password given)");
    }
    Ok(password)
}

pub async fn user(store: &Store, command: &UserCommand) -> Result<()> {
    match command {
        UserCommand::Add {
            username,
            role,
            zones,
            areas,
            name,
            partner,
        } => {
            let request = AccountRequest {
                username: username.clone(),
                display_name: name.clone(),
                password: read_password()?,
                role: role.clone(),
                zones: zones.clone(),
                areas: areas.clone(),
            };
            halve_web::accounts::create_account_for_partner(
                store,
                &request,
                partner.as_deref().unwrap_or(""),
                SystemClock.unix_seconds(),
            )
            .await?;
            println!("เพิ่มบัญชี {username} แล้ว (account {username} added)");
        }
        UserCommand::List => {
            for u in store.users().await? {
                let scope: Vec<String> = u
                    .scope
                    .iter()
                    .map(|s| format!("{}:{}", s.kind, s.code))
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}",
                    u.username,
                    u.role,
                    if u.active { "active" } else { "inactive" },
                    scope.join(",")
                );
            }
        }
    }
    Ok(())
}
