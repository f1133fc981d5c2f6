//! Every generated type of every client, decodable by service and schema name, for the
//! decoder property tests (`tests/tests/decoders.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/decode.rs`, which includes this file as a module: it must depend on
//! nothing but `user_apis` and `serde_json`).
//!
//! A test checks that the list below and the specs' component schemas agree.

use serde_json::Value;
use user_apis::{cerego, sendauth, zendesk};

macro_rules! typed_decoders {
    ($( $service:ident => [ $($ty:ident),* $(,)? ] ),* $(,)?) => {
        /// Runs `serde_json::from_slice::<T>` (what a generated call runs on a response body)
        /// for the component schema `name` of `service`: `Some(true)` if `bytes` decode,
        /// `Some(false)` if they do not, `None` for a schema not listed.
        pub fn from_slice(service: &str, name: &str, bytes: &[u8]) -> Option<bool> {
            match service {
                $( stringify!($service) => match name {
                    $( stringify!($ty) => Some(
                        serde_json::from_slice::<$service::types::$ty>(bytes).is_ok()
                    ), )*
                    _ => None,
                }, )*
                _ => None,
            }
        }

        /// Every (service, schema) listed.
        pub fn listed() -> Vec<(&'static str, &'static str)> {
            vec![$( $( (stringify!($service), stringify!($ty)), )* )*]
        }
    };
}

typed_decoders! {
    zendesk => [
        UserRole, TicketRestriction, MalwareScanResult, JobState, ComplianceDeletionAction,
        SafeUpdate, IdentityType, User, CurrentUser, DeletedUser, Attachment, UserRelated,
        ComplianceDeletionStatus, JobStatus, JobStatusResults, JobStatusResultList,
        JobStatusResultSummary, JobStatusResult, IncrementalUserPage, Count, TagCount, CursorMeta,
        CursorLinks, UserResponse, CurrentUserResponse, UserPage, DeletedUserResponse,
        DeletedUserPage, UserRelatedResponse, ComplianceDeletionStatusPage, CountResponse,
        JobStatusResponse, TagsResponse, TagCountPage, TagNamePage, ErrorResponse, UserInput,
        UserCreate, UserOrganizationInput, UserIdentityInput, UserRequest, UserCreateRequest,
        UsersRequest, UsersCreateRequest, UpdateManyUsersRequest, UserMergeRequest,
        UserMergeTarget, TagsRequest, TicketTagsRequest,
    ],
    cerego => [
        AddUserTagRequest, UpdateUserTagRequest, AddUserTagsRequest, UserTagInput,
        PartnerUserTagDocument, PartnerUserTagListDocument, DocumentMeta, PartnerUserTag,
        PartnerUserTagAttributes, PartnerUserTagRelationships, ToOneRelationship,
        ResourceIdentifier, ErrorDocument, ErrorObject, ErrorSource,
    ],
    sendauth => [
        User, UserInput, Role, MessagingPreference, Company,
        CompanyInput, UserPage, Audit, AuditPage, Transaction, TransactionState,
        TransactionPage, Tx, WebTx, TagsRequest, SortDir,
    ],
}

/// Each client's generated `decode_schema(name, value)`: `Some(true)` if `value` decodes as
/// the schema `name` of `service` (and encodes back), `Some(false)` if not, `None` for an
/// unknown schema.
pub fn decode_schema(service: &str, name: &str, value: Value) -> Option<bool> {
    let result = match service {
        "zendesk" => zendesk::decode_schema(name, value),
        "cerego" => cerego::decode_schema(name, value),
        "sendauth" => sendauth::decode_schema(name, value),
        _ => None,
    };
    result.map(|r| r.is_ok())
}
