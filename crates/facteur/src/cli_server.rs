//! Server-side subcommands: serve, migrate, healthcheck, export-openapi, directory import/export.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use facteur_app::{Actor, App};

use crate::Command;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `FACTEUR_LISTEN`); port 0 picks a free port.
    #[arg(long)]
    pub listen: Option<String>,
    /// Data directory (overrides `FACTEUR_DATA_DIR`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed demo structures, users and technical accounts; writes `DATA/demo-credentials.json`.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Data directory (overrides `FACTEUR_DATA_DIR`).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// Base URL of the server to probe; default `http://LISTEN` from the configuration.
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum DirectoryCommand {
    /// Import public structures and services from a CSV file (idempotent).
    Import {
        file: PathBuf,
        /// Data directory (overrides `FACTEUR_DATA_DIR`).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Export the directory as CSV to standard output or a file.
    Export {
        file: Option<PathBuf>,
        /// Data directory (overrides `FACTEUR_DATA_DIR`).
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

/// Runs a server-side subcommand; errors are printed with their causes.
pub fn run(config_file: &Path, command: Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(config_file, command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(config_file: &Path, command: Command) -> anyhow::Result<ExitCode> {
    if let Command::ExportOpenapi = command {
        print!("{}", facteur_web::openapi::openapi_json());
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = Config::load(config_file)?;
    match command {
        Command::Serve(args) => {
            if let Some(listen) = args.listen {
                config.listen = listen;
            }
            if let Some(data) = args.data {
                config.data_dir = data;
            }
            serve(config, args.demo).await
        }
        Command::Migrate(args) => {
            override_data(&mut config, args.data);
            init_tracing(&config);
            let app = open(&config).await?;
            drop(app);
            println!("migrations applied ({})", redact(&config.app_config().database_url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck(args) => healthcheck(&config, args.url).await,
        Command::Directory(DirectoryCommand::Import { file, data }) => {
            override_data(&mut config, data);
            directory_import(&config, &file).await
        }
        Command::Directory(DirectoryCommand::Export { file, data }) => {
            override_data(&mut config, data);
            directory_export(&config, file.as_deref()).await
        }
        Command::ExportOpenapi | Command::Validate(_) | Command::Convert(_) => {
            anyhow::bail!("not a server command")
        }
    }
}

fn override_data(config: &mut Config, data: Option<PathBuf>) {
    if let Some(d) = data {
        config.data_dir = d;
    }
}

/// Hides the password of a database URL before printing it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (never expected) is harmless: keep the first subscriber.
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn open(config: &Config) -> anyhow::Result<App> {
    App::open(config.app_config()).await.context("opening the database")
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<ExitCode> {
    init_tracing(&config);
    let server_config = facteur_web::ServerConfig {
        app: config.app_config(),
        listen: config.listen.clone(),
        http: config.http_config()?,
    };
    let server = facteur_web::Application::build(server_config).await?;
    if demo {
        facteur_app::demo::seed(server.app(), &config.data_dir)
            .await
            .context("seeding demo data")?;
        println!(
            "demo credentials written to {}",
            config.data_dir.join("demo-credentials.json").display()
        );
    }
    let addr = server.local_addr()?;
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("listening on http://{addr}");
    println!("API docs: http://{addr}{}", facteur_web::openapi::DOCS_PATH);
    server.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn healthcheck(config: &Config, url: Option<String>) -> anyhow::Result<ExitCode> {
    let base = url
        .or_else(|| config.base_url.clone())
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let target = format!("{}/healthz", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    match client.get(&target).send().await {
        Ok(r) if r.status().is_success() => {
            println!("healthy: {target}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(r) => {
            eprintln!("unhealthy: {target} answered {}", r.status());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("unreachable: {target}: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn directory_import(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let app = open(config).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} structures ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress_bar = bar.clone();
    let progress = move |done: u64, total: u64| {
        progress_bar.set_length(total);
        progress_bar.set_position(done);
    };
    let report = app
        .import_directory_csv(&Actor::Operator, std::io::BufReader::new(input), &progress)
        .await
        .with_context(|| format!("importing {}", file.display()))?;
    bar.finish_and_clear();
    println!(
        "structures: {} created, {} updated, {} unchanged; services: {} created, {} updated, {} unchanged",
        report.structures_created,
        report.structures_updated,
        report.structures_unchanged,
        report.services_created,
        report.services_updated,
        report.services_unchanged
    );
    Ok(ExitCode::SUCCESS)
}

async fn directory_export(config: &Config, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    let count = match file {
        Some(path) => {
            let out = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut out = std::io::BufWriter::new(out);
            let n = app.export_directory_csv(&mut out).await?;
            std::io::Write::flush(&mut out)?;
            n
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let n = app.export_directory_csv(&mut out).await?;
            std::io::Write::flush(&mut out)?;
            n
        }
    };
    eprintln!("{count} structures exported");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(redact("postgres://u:secret@db:5432/f"), "postgres://u:***@db:5432/f");
        assert_eq!(
            redact("sqlite://facteur-data/facteur.db"),
            "sqlite://facteur-data/facteur.db"
        );
    }
}
