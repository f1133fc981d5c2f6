//! The baselines: the same requests written by hand, with reqwest + serde (the workspace's
//! reqwest, the same headers, hand-written serde structs) and with a bare hyper client.
//!
//! The structs carry every field of the generated ones with the same Rust types (dates as
//! `chrono::DateTime<Utc>`, ids as `i64` or `Uuid`, custom fields as a JSON map); enums are
//! plain `String`s, as a hand-written client would have them.

#![allow(missing_docs, dead_code)] // the fields are the wire's, decoded to be paid for, not read

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, USER_AGENT};
use serde::Deserialize;
use uuid::Uuid;

/// The user agent the generated clients send.
pub const UA: &str = concat!("user-apis/", env!("CARGO_PKG_VERSION"));

#[derive(Deserialize, Debug)]
pub struct ZdAttachment {
    pub id: i64,
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub content_url: Option<String>,
    pub mapped_content_url: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub inline: Option<bool>,
    pub deleted: Option<bool>,
    pub malware_access_override: Option<bool>,
    pub malware_scan_result: Option<String>,
    #[serde(default)]
    pub thumbnails: Vec<ZdAttachment>,
}

#[derive(Deserialize, Debug)]
pub struct ZdUser {
    pub id: i64,
    pub url: String,
    pub name: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub time_zone: Option<String>,
    pub iana_time_zone: Option<String>,
    pub phone: Option<String>,
    pub shared_phone_number: Option<bool>,
    pub photo: Option<ZdAttachment>,
    pub locale_id: Option<i64>,
    pub locale: Option<String>,
    pub organization_id: Option<i64>,
    pub role: String,
    pub role_type: Option<i32>,
    pub custom_role_id: Option<i64>,
    pub verified: Option<bool>,
    pub external_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub alias: Option<String>,
    pub active: bool,
    pub shared: Option<bool>,
    pub shared_agent: Option<bool>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub two_factor_auth_enabled: Option<bool>,
    pub signature: Option<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub moderator: Option<bool>,
    pub ticket_restriction: Option<String>,
    pub only_private_comments: Option<bool>,
    pub restricted_agent: Option<bool>,
    pub suspended: Option<bool>,
    pub chat_only: Option<bool>,
    pub default_group_id: Option<i64>,
    pub report_csv: Option<bool>,
    #[serde(default)]
    pub user_fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize, Debug)]
pub struct ZdUserResponse {
    pub user: ZdUser,
}

#[derive(Deserialize, Debug, Default)]
pub struct ZdMeta {
    pub has_more: Option<bool>,
    pub after_cursor: Option<String>,
    pub before_cursor: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
pub struct ZdLinks {
    pub next: Option<String>,
    pub prev: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct ZdUserPage {
    pub users: Vec<ZdUser>,
    pub meta: Option<ZdMeta>,
    pub links: Option<ZdLinks>,
    pub next_page: Option<String>,
    pub previous_page: Option<String>,
    pub count: Option<i64>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SaCompany {
    pub id: Uuid,
    #[serde(rename = "orgID")]
    pub org_id: Option<Uuid>,
    pub name: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SaUser {
    pub id: Uuid,
    pub role: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<SaCompany>,
    pub permissions: Option<Vec<String>>,
    pub group_permissions: Option<Vec<String>>,
    pub permission_groups: Option<Vec<Uuid>>,
    pub messaging_preference: Option<String>,
    #[serde(default)]
    pub has_passkeys: bool,
    pub created_at: DateTime<Utc>,
    pub last_authenticated: Option<DateTime<Utc>>,
}

#[derive(Deserialize, Debug)]
pub struct SaUserPage {
    pub rows: Option<Vec<SaUser>>,
    pub total: i64,
}

/// Everything a hand-written client needs: reqwest, the base URL, the credentials header.
#[derive(Clone)]
pub struct Hand {
    pub http: reqwest::Client,
    pub base: String,
    pub auth: HeaderValue,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

impl Hand {
    /// A reqwest client as one writes it by hand: the defaults, plus our user agent.
    pub fn new(base: &str, auth: HeaderValue) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(UA)
            .build()
            .expect("reqwest client");
        Self {
            http,
            base: base.to_string(),
            auth,
        }
    }

    /// `GET /api/v2/users/{id}` into the hand-written struct.
    pub async fn show_user(&self, id: i64) -> Result<ZdUserResponse, Failure> {
        self.show_user_as(id, None).await
    }

    /// The same request, with a per-request timeout (to the last body byte) when one is
    /// given, its body decoded into `M`: the hand-written struct, or the generated client's
    /// model (`zendesk_api::types::UserResponse`), to tell what its decoder costs from what the
    /// generated client's runtime does.
    pub async fn show_user_as<M: serde::de::DeserializeOwned>(
        &self,
        id: i64,
        timeout: Option<Duration>,
    ) -> Result<M, Failure> {
        let mut request = self
            .http
            .get(format!("{}/api/v2/users/{id}", self.base))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await?.error_for_status()?;
        Ok(response.json().await?)
    }

    /// `GET /api/v1/users/{uuid}` into the hand-written struct.
    pub async fn get_sendauth_user(&self, id: Uuid) -> Result<SaUser, Failure> {
        let response = self
            .http
            .get(format!("{}/api/v1/users/{id}", self.base))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await?
            .error_for_status()?;
        Ok(response.json().await?)
    }

    /// Every Zendesk user, page after page by cursor, counted as they are decoded.
    pub async fn count_all_users(&self, page_size: usize) -> Result<(u64, u64), Failure> {
        let mut after: Option<String> = None;
        let (mut users, mut pages) = (0u64, 0u64);
        loop {
            let size = page_size.to_string();
            let mut query = vec![("page[size]", size.as_str())];
            if let Some(a) = &after {
                query.push(("page[after]", a));
            }
            let page: ZdUserPage = self
                .http
                .get(format!("{}/api/v2/users", self.base))
                .query(&query)
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .header(AUTHORIZATION, self.auth.clone())
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            pages += 1;
            users += page.users.len() as u64;
            let meta = page.meta.unwrap_or_default();
            match (meta.has_more, meta.after_cursor) {
                (Some(true), Some(cursor)) => after = Some(cursor),
                _ => return Ok((users, pages)),
            }
        }
    }
}

/// The same `show_user` through hyper alone (hyper-util's pooled client, which reqwest also
/// sits on), decoded into the hand-written struct.
#[derive(Clone)]
pub struct Bare {
    client: HyperClient<HttpConnector, Empty<Bytes>>,
    base: String,
    auth: HeaderValue,
}

impl Bare {
    /// A pooled HTTP/1.1 client with `TCP_NODELAY`, as reqwest sets it.
    pub fn new(base: &str, auth: HeaderValue) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = HyperClient::builder(TokioExecutor::new()).build(connector);
        Self {
            client,
            base: base.to_string(),
            auth,
        }
    }

    /// `GET /api/v2/users/{id}` with the same headers.
    pub async fn show_user(&self, id: i64) -> Result<ZdUserResponse, Failure> {
        let request = http::Request::get(format!("{}/api/v2/users/{id}", self.base))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(AUTHORIZATION, self.auth.clone())
            .header(USER_AGENT, HeaderValue::from_static(UA))
            .body(Empty::<Bytes>::new())?;
        let response = self.client.request(request).await?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()).into());
        }
        let body = response.into_body().collect().await?.to_bytes();
        Ok(serde_json::from_slice(&body)?)
    }
}
