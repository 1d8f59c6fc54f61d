//! The application handle shared by every handler: the immutable
//! configuration, the credentials it implies, and the locked world.

use std::sync::Arc;

use crate::auth::AkSk;
use crate::config::Config;
use crate::state::Shared;

#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub aksk: AkSk,
    pub world: Shared,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    pub fn new(config: Config) -> Result<Self, crate::Error> {
        config.validate()?;
        let world = Shared::new(config.build_world()?);
        let aksk = AkSk {
            access_key: config.access_key.clone(),
            secret_key: config.secret_key.clone(),
            security_token: config.security_token.clone(),
        };
        Ok(App(Arc::new(AppInner {
            config,
            aksk,
            world,
        })))
    }
}
