//! Where the session token lives: the OS keyring (Keychain, Credential Manager,
//! Secret Service), never a file. Entries are namespaced per build so a test or debug
//! build never reads or overwrites a user's real login.

use handoff_protocol::SecretString;

use crate::error::{CoreError, CoreResult};

pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> CoreResult<Option<SecretString>>;
    fn set(&self, account: &str, secret: &SecretString) -> CoreResult<()>;
    fn delete(&self, account: &str) -> CoreResult<()>;
}

/// The OS keyring under service `dev.handoff.inbox.<namespace>`.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

const NO_KEYRING: &str = "No OS keyring is available to keep your login safe. On Linux, install and unlock a Secret \
                          Service provider (GNOME Keyring or KWallet); Handoff never stores tokens in plain files.";

impl KeyringStore {
    /// The namespace comes from `HANDOFF_KEYRING_NAMESPACE`, else `debug` for debug
    /// builds and `app` for release builds.
    pub fn for_this_build() -> KeyringStore {
        let ns = std::env::var("HANDOFF_KEYRING_NAMESPACE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| if cfg!(debug_assertions) { "debug".into() } else { "app".into() });
        KeyringStore::with_namespace(&ns)
    }

    pub fn with_namespace(ns: &str) -> KeyringStore {
        KeyringStore { service: format!("dev.handoff.inbox.{ns}") }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str) -> CoreResult<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(map_err)
    }
}

fn map_err(e: keyring::Error) -> CoreError {
    match e {
        keyring::Error::PlatformFailure(inner) => CoreError::Keyring(format!("{NO_KEYRING} ({inner})")),
        keyring::Error::NoStorageAccess(inner) => CoreError::Keyring(format!("{NO_KEYRING} ({inner})")),
        other => CoreError::Keyring(format!("the OS keyring refused: {other}")),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> CoreResult<Option<SecretString>> {
        match self.entry(account)?.get_password() {
            Ok(p) => Ok(Some(SecretString::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    fn set(&self, account: &str, secret: &SecretString) -> CoreResult<()> {
        self.entry(account)?.set_password(secret.expose()).map_err(map_err)
    }

    fn delete(&self, account: &str) -> CoreResult<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }
}
