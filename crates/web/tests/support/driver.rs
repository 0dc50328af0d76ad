//! The browser tests' driver: chromedriver started on a free port, a headless Chromium
//! session at a phone's width, waiting for elements, and screenshots at phone and desktop
//! widths. Included by `browser.rs` and `browser_cases.rs` with `#[path]`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

pub const PHONE: (u32, u32) = (390, 844);
pub const DESKTOP: (u32, u32) = (1280, 900);

/// chromedriver and chromium, or why not.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    let driver = std::env::var_os("HALVE_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    let chrome = std::env::var_os("HALVE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if driver.exists() && chrome.exists() {
        return Some((driver, chrome));
    }
    let required = std::env::var("HALVE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "HALVE_REQUIRE_BROWSER=1 but {} or {} is missing",
        driver.display(),
        chrome.display()
    );
    eprintln!("note: chromium/chromedriver not installed; browser tests not run");
    None
}

/// A chromedriver process on a free loopback port, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub async fn start(path: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn connect(driver: &Driver, chrome: &Path) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chrome,
            // As the machine's notes require: no sandbox as root, and no background
            // networking, which this closed network refuses.
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={},{}", PHONE.0, PHONE.1),
                "--lang=th",
            ],
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

pub fn screenshots() -> PathBuf {
    // The build directory in use (each engineer may have their own), else the workspace's.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The element, once the page that follows a click has loaded it: WebDriver's `find` does
/// not wait, and a loaded CI machine can take seconds to answer a form.
pub async fn wait_for(client: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    match client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(locator)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            // Leave the page that was there for whoever reads the failure.
            if let Ok(png) = client.screenshot().await {
                let _ = std::fs::write(screenshots().join("failure.png"), png);
            }
            let url = client.current_url().await.map(|u| u.to_string());
            panic!("{locator:?} did not appear on {url:?}: {e}");
        }
    }
}

/// Saves the current page at a phone's and a desktop's width.
pub async fn shoot(client: &Client, name: &str) {
    for (label, (w, h)) in [("phone", PHONE), ("desktop", DESKTOP)] {
        client.set_window_size(w, h).await.unwrap();
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG of {name}");
        std::fs::write(screenshots().join(format!("{name}-{label}.png")), png).unwrap();
    }
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
}
