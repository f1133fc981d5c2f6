//! Every operation of every client, called through the facade with valid inputs, as a user
//! would. The snapshot tests record what each call sends; the contract tests send each one
//! to a mock server that validates it against the spec. A coverage test keeps this list and
//! the specs in step.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use user_apis::runtime::ApiError;
use user_apis::{cerego, sendauth, zendesk};

use crate::clients::Clients;

/// What calling an operation gives: success, or the error converted to [`ApiError`].
pub type CallResult = Result<(), ApiError>;

/// One operation and how to call it.
pub struct Operation {
    /// The service (spec file stem).
    pub service: &'static str,
    /// The operationId.
    pub id: &'static str,
    /// Calls the operation with valid inputs.
    pub call: for<'a> fn(&'a Clients) -> BoxFuture<'a, CallResult>,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.service, self.id)
    }
}

/// A SendAuth user id used throughout.
pub const SENDAUTH_USER: &str = "3f9c2a4e-8b1d-4c6a-9e2f-7a5b1c0d4e8f";

fn ticket_stamp() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2024-01-15T09:30:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_default()
}

fn sendauth_user() -> uuid::Uuid {
    uuid::Uuid::parse_str(SENDAUTH_USER).unwrap_or_default()
}

/// A token request for `grant`, with the test OAuth client and what the grant needs:
/// `client_credentials` asks for scopes, `authorization_code` sends a code with its PKCE
/// verifier and redirect URI, `refresh_token` a refresh token. Every grant sets the lifetimes.
pub fn oauth_token_request(
    builder: zendesk::types::builder::OAuthTokenRequest,
    grant: zendesk::types::OAuthGrantType,
) -> zendesk::types::builder::OAuthTokenRequest {
    use crate::secrets::*;
    use zendesk::types::OAuthGrantType;
    let builder = builder
        .grant_type(grant)
        .client_id(ZENDESK_OAUTH_CLIENT_ID)
        .client_secret(ZENDESK_OAUTH_CLIENT_SECRET.to_string())
        .expires_in(1800i64);
    match grant {
        OAuthGrantType::ClientCredentials => builder.scope("users:read users:write".to_string()),
        OAuthGrantType::AuthorizationCode => builder
            .code(ZENDESK_OAUTH_CODE.to_string())
            .code_verifier(ZENDESK_OAUTH_CODE_VERIFIER.to_string())
            .redirect_uri("https://sync.example.com/oauth/callback".to_string())
            .refresh_token_expires_in(2_592_000i64),
        OAuthGrantType::RefreshToken => builder
            .refresh_token(ZENDESK_OAUTH_REFRESH_TOKEN.to_string())
            .refresh_token_expires_in(2_592_000i64),
    }
}

macro_rules! catalogue {
    ($( $service:ident :: $id:ident => |$c:ident| $call:expr ; )*) => {
        /// Every operation of every client, in service then operationId order.
        pub fn catalogue() -> Vec<Operation> {
            vec![$(
                Operation {
                    service: stringify!($service),
                    id: stringify!($id),
                    call: {
                        fn call<'a>($c: &'a Clients) -> BoxFuture<'a, CallResult> {
                            Box::pin(async move {
                                $call.send().await.map(drop).map_err(ApiError::from)
                            })
                        }
                        call
                    },
                },
            )*]
        }
    };
}

catalogue! {
    cerego::add_user_tag => |c| c.cerego.add_user_tag().tag_type_id("3").body(
        cerego::types::AddUserTagRequest {
            user_id: "1185304".into(),
            value: "The value of the tag".into(),
        },
    );
    cerego::add_user_tags => |c| c.cerego.add_user_tags().user_id("1185304").body(
        cerego::types::AddUserTagsRequest {
            tags: vec![
                cerego::types::UserTagInput {
                    partner_user_tag_type_id: "5".into(),
                    value: "California".into(),
                },
                cerego::types::UserTagInput {
                    partner_user_tag_type_id: "6".into(),
                    value: "Sacramento".into(),
                },
            ],
        },
    );
    cerego::update_user_tag => |c| c.cerego.update_user_tag().id("84918").body(
        cerego::types::UpdateUserTagRequest {
            value: "Nevada".into(),
        },
    );

    sendauth::authenticate_user => |c| c.sendauth.authenticate_user().user_id(sendauth_user()).body(
        sendauth::types::WebTx {
            message: Some("Approve the password reset for ticket #4521".into()),
            connectwise: Some("4521".into()),
        },
    );
    sendauth::create_user => |c| c.sendauth.create_user().body_map(|b| b
        .first_name("Ada".to_string())
        .last_name("Lovelace".to_string())
        .email(Some("ada@example.com".to_string()))
        .phone(Some("+15555550100".to_string()))
        .role(Some(sendauth::types::Role::User))
        .messaging_preference(Some(sendauth::types::MessagingPreference::Both)));
    sendauth::delete_user => |c| c.sendauth.delete_user().user_id(sendauth_user());
    sendauth::destroy_user => |c| c.sendauth.destroy_user().user_id(sendauth_user());
    sendauth::get_user => |c| c.sendauth.get_user().user_id(sendauth_user());
    sendauth::get_user_audits => |c| c.sendauth.get_user_audits().user_id(sendauth_user())
        .page(2u64).per_page(25u64).q("login");
    sendauth::get_user_transactions => |c| c.sendauth.get_user_transactions()
        .user_id(sendauth_user()).page(1u64).per_page(10u64).q("verified");
    sendauth::list_deleted_users => |c| c.sendauth.list_deleted_users()
        .page(1u64).per_page(50u64).permission("users:read").q("ada");
    sendauth::list_users => |c| c.sendauth.list_users()
        .page(3u64).per_page(100u64).permission("users:write").q("ada lovelace & co")
        .sort_by("createdAt").sort_dir(sendauth::types::SortDir::Desc);
    sendauth::register_user => |c| c.sendauth.register_user().user_id(sendauth_user());
    sendauth::remove_user_passkey => |c| c.sendauth.remove_user_passkey().user_id(sendauth_user());
    sendauth::restore_user => |c| c.sendauth.restore_user().user_id(sendauth_user());
    sendauth::set_user_tags => |c| c.sendauth.set_user_tags().user_id(sendauth_user()).body(
        sendauth::types::TagsRequest {
            tags: BTreeMap::from([
                ("department".to_string(), "engineering".to_string()),
                ("site".to_string(), "berlin".to_string()),
            ]),
        },
    );
    sendauth::update_user => |c| c.sendauth.update_user().user_id(sendauth_user())
        .body_map(|b| b
            .first_name("Ada".to_string())
            .last_name("Lovelace".to_string())
            .email(Some("ada@example.com".to_string()))
            .phone(Some("+15555550199".to_string()))
            .permission_groups(Some(vec![])));
    zendesk::add_organization_tags => |c| c.zendesk.add_organization_tags().organization_id(57542)
        .body(zendesk::types::TagsRequest { tags: vec!["premium".into(), "emea".into()] });
    zendesk::add_ticket_tags => |c| c.zendesk.add_ticket_tags().ticket_id(123).body(
        zendesk::types::TicketTagsRequest {
            tags: vec!["urgent".into()],
            updated_stamp: Some(ticket_stamp()),
            safe_update: Some(zendesk::types::SafeUpdate::True),
        },
    );
    zendesk::add_user_tags => |c| c.zendesk.add_user_tags().user_id(35436)
        .body(zendesk::types::TagsRequest { tags: vec!["vip".into()] });
    zendesk::autocomplete_tags => |c| c.zendesk.autocomplete_tags().name("att").page(1u32).per_page(20u32);
    zendesk::autocomplete_users => |c| c.zendesk.autocomplete_users().name("gil").field_id("360000123").source("zen:user");
    zendesk::count_deleted_users => |c| c.zendesk.count_deleted_users();
    zendesk::count_tags => |c| c.zendesk.count_tags();
    zendesk::count_users => |c| c.zendesk.count_users()
        .single_role(zendesk::types::UserRole::Agent).permission_set(8);
    zendesk::create_many_users => |c| c.zendesk.create_many_users().body(
        zendesk::types::UsersCreateRequest::builder().users(vec![
            zendesk::types::UserCreate::builder().name("Roger Wilco").email("roger@example.com".to_string()),
            zendesk::types::UserCreate::builder().name("Woger Rilco").email("woger@example.com".to_string())
                .role(zendesk::types::UserRole::Agent),
        ].into_iter().map(|b| b.try_into()).collect::<Result<Vec<zendesk::types::UserCreate>, _>>()
            .expect("valid users")),
    );
    zendesk::create_or_update_many_users => |c| c.zendesk.create_or_update_many_users().body(
        zendesk::types::UsersRequest {
            users: vec![
                zendesk::types::UserInput { email: Some("roger@example.com".into()), name: Some("Roger Wilco".into()), ..Default::default() },
                zendesk::types::UserInput { external_id: Some("crm-4521".into()), name: Some("Woger Rilco".into()), ..Default::default() },
            ],
        },
    );
    zendesk::create_or_update_user => |c| c.zendesk.create_or_update_user().body(
        zendesk::types::UserRequest {
            user: zendesk::types::UserInput {
                email: Some("roger@example.com".into()),
                name: Some("Roger Wilco".into()),
                ..Default::default()
            },
        },
    );
    zendesk::create_token_for_grant_type => |c| c.zendesk.create_token_for_grant_type()
        .body_map(|b| oauth_token_request(b, zendesk::types::OAuthGrantType::ClientCredentials));
    zendesk::create_user => |c| c.zendesk.create_user().body(
        zendesk::types::UserCreateRequest::builder().user(
            zendesk::types::UserCreate::builder()
                .name("Roger Wilco")
                .email("roger@example.com".to_string())
                .role(zendesk::types::UserRole::EndUser)
                .verified(true),
        ),
    );
    zendesk::delete_user => |c| c.zendesk.delete_user().user_id(35436);
    zendesk::destroy_many_users => |c| c.zendesk.destroy_many_users().ids("1,2,3");
    zendesk::incremental_user_export => |c| c.zendesk.incremental_user_export()
        .start_time(1_332_034_771i64).per_page(1000u32);
    zendesk::list_deleted_users => |c| c.zendesk.list_deleted_users().page_size(100u32).page_after("eyJvIjoibmljZV9pZCIsInYiOiJhUUFBQUFBQUFBQUEifQ==");
    zendesk::list_organization_tags => |c| c.zendesk.list_organization_tags().organization_id(57542);
    zendesk::list_tags => |c| c.zendesk.list_tags().page_size(50u32);
    zendesk::list_ticket_tags => |c| c.zendesk.list_ticket_tags().ticket_id(123);
    zendesk::list_user_tags => |c| c.zendesk.list_user_tags().user_id(35436);
    zendesk::list_users => |c| c.zendesk.list_users()
        .page_size(100u32)
        .page_after("eyJvIjoibmljZV9pZCIsInYiOiJhUUFBQUFBQUFBQUEifQ==")
        .single_role(zendesk::types::UserRole::Agent)
        .permission_set(8)
        .external_id("crm-4521");
    zendesk::logout_many_users => |c| c.zendesk.logout_many_users().ids("35436,35437");
    zendesk::merge_end_users => |c| c.zendesk.merge_end_users().user_id(35436).body(
        zendesk::types::UserMergeRequest {
            user: zendesk::types::UserMergeTarget { id: Some(35437), email: None, password: None },
        },
    );
    zendesk::permanently_delete_user => |c| c.zendesk.permanently_delete_user().deleted_user_id(189304);
    zendesk::remove_organization_tags => |c| c.zendesk.remove_organization_tags().organization_id(57542)
        .body(zendesk::types::TagsRequest { tags: vec!["emea".into()] });
    zendesk::remove_ticket_tags => |c| c.zendesk.remove_ticket_tags().ticket_id(123).body(
        zendesk::types::TicketTagsRequest {
            tags: vec!["urgent".into()],
            updated_stamp: Some(ticket_stamp()),
            safe_update: Some(zendesk::types::SafeUpdate::True),
        },
    );
    zendesk::remove_user_tags => |c| c.zendesk.remove_user_tags().user_id(35436)
        .body(zendesk::types::TagsRequest { tags: vec!["vip".into()] });
    zendesk::request_user_create => |c| c.zendesk.request_user_create().body(
        zendesk::types::UserCreateRequest::builder().user(
            zendesk::types::UserCreate::builder().name("Roger Wilco").email("roger@example.com".to_string()),
        ),
    );
    zendesk::search_users => |c| c.zendesk.search_users().query("email:gil@example.com role:end-user").page(2u32).per_page(25u32);
    zendesk::set_organization_tags => |c| c.zendesk.set_organization_tags().organization_id(57542)
        .body(zendesk::types::TagsRequest { tags: vec!["premium".into()] });
    zendesk::set_ticket_tags => |c| c.zendesk.set_ticket_tags().ticket_id(123)
        .body(zendesk::types::TagsRequest { tags: vec!["billing".into(), "refund".into()] });
    zendesk::set_user_tags => |c| c.zendesk.set_user_tags().user_id(35436)
        .body(zendesk::types::TagsRequest { tags: vec!["vip".into(), "beta".into()] });
    zendesk::show_current_user => |c| c.zendesk.show_current_user();
    zendesk::show_deleted_user => |c| c.zendesk.show_deleted_user().deleted_user_id(189304);
    zendesk::show_job_status => |c| c.zendesk.show_job_status().job_status_id("8b726e606741012ffc2d782bcb7848fe");
    zendesk::show_many_users => |c| c.zendesk.show_many_users().ids("35436,35437");
    zendesk::show_user => |c| c.zendesk.show_user().user_id(35436);
    zendesk::show_user_compliance_deletion_statuses => |c| c.zendesk.show_user_compliance_deletion_statuses()
        .user_id(35436).application("support").page_size(10u32);
    zendesk::show_user_related => |c| c.zendesk.show_user_related().user_id(35436);
    zendesk::update_many_users => |c| c.zendesk.update_many_users().ids("35436,35437").body(
        zendesk::types::UpdateManyUsersRequest {
            user: Some(zendesk::types::UserInput { organization_id: Some(57542), ..Default::default() }),
            users: vec![],
        },
    );
    zendesk::update_user => |c| c.zendesk.update_user().user_id(35436).body(
        zendesk::types::UserRequest {
            user: zendesk::types::UserInput { phone: Some("+15555550123".into()), ..Default::default() },
        },
    );
}
