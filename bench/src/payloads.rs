//! Realistic payloads, built deterministically from the shapes of the spec examples
//! (`specs/zendesk.yaml` `show_user`, `specs/sendauth.yaml` `get_user`): names, emails, time
//! zones, roles, tags, custom fields, some photos with thumbnails, nulls where real accounts
//! have them.

use serde_json::{Value, json};

/// Users on one page of a listing.
pub const PAGE_SIZE: usize = 100;

/// A small deterministic generator (xorshift64*), so every run serves the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn date(&mut self, from_year: u64) -> String {
        let year = from_year + self.below(2025 - from_year);
        format!(
            "{year}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            1 + self.below(12),
            1 + self.below(28),
            self.below(24),
            self.below(60),
            self.below(60)
        )
    }

    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Roger",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "Alan",
    "Katherine",
    "Niklaus",
    "Sophie",
    "Bjarne",
    "Joan",
    "Guido",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Wilco",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Turing",
    "Johnson",
    "Wirth",
    "Wilson",
    "Stroustrup",
    "Clarke",
    "van Rossum",
];
const ZONES: &[(&str, &str)] = &[
    ("Copenhagen", "Europe/Copenhagen"),
    ("Eastern Time (US & Canada)", "America/New_York"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("London", "Europe/London"),
    ("Tokyo", "Asia/Tokyo"),
    ("Sydney", "Australia/Sydney"),
    ("Berlin", "Europe/Berlin"),
];
const TAGS: &[&str] = &[
    "enterprise",
    "vip",
    "beta",
    "churn-risk",
    "onboarding",
    "partner",
    "emea",
    "apac",
    "priority-support",
    "trial",
];
const LOCALES: &[(i64, &str)] = &[(1, "en-US"), (1176, "en-GB"), (8, "de"), (1194, "ja")];

/// One Zendesk user as Zendesk returns it (every property of the spec's `User`).
pub fn zendesk_user(index: usize) -> Value {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xA24B_AED4));
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let id = 360_000_000_000i64 + index as i64 * 7919;
    let role = match rng.below(20) {
        0 => "admin",
        1..=3 => "agent",
        _ => "end-user",
    };
    let staff = role != "end-user";
    let (zone, iana) = ZONES[rng.below(ZONES.len() as u64) as usize];
    let (locale_id, locale) = LOCALES[rng.below(LOCALES.len() as u64) as usize];
    let created = rng.date(2012);
    let updated = rng.date(2022);
    let has_phone = rng.chance(40);
    let photo = if rng.chance(30) {
        attachment(&mut rng, id, true)
    } else {
        Value::Null
    };
    let tags: Vec<&str> = (0..rng.below(5)).map(|_| rng.pick(TAGS)).collect();
    let email_name = format!("{first}.{last}{index}")
        .to_lowercase()
        .replace(' ', "");
    json!({
        "id": id,
        "url": format!("https://acme.zendesk.com/api/v2/users/{id}.json"),
        "name": format!("{first} {last}"),
        "email": format!("{email_name}@example.com"),
        "created_at": created,
        "updated_at": updated,
        "time_zone": zone,
        "iana_time_zone": iana,
        "phone": if has_phone { json!(format!("+1555{:07}", rng.below(10_000_000))) } else { Value::Null },
        "shared_phone_number": if has_phone { json!(false) } else { Value::Null },
        "photo": photo,
        "locale_id": locale_id,
        "locale": locale,
        "organization_id": if rng.chance(70) { json!(57_542 + rng.below(500)) } else { Value::Null },
        "role": role,
        "role_type": if staff { json!(if role == "admin" { 4 } else { rng.below(4) }) } else { Value::Null },
        "custom_role_id": if staff && rng.chance(50) { json!(360_002_000_000u64 + rng.below(10)) } else { Value::Null },
        "verified": rng.chance(85),
        "external_id": if rng.chance(60) { json!(format!("crm-{:06}", rng.below(1_000_000))) } else { Value::Null },
        "tags": tags,
        "alias": if staff { json!(format!("{first} from Support")) } else { Value::Null },
        "active": true,
        "shared": false,
        "shared_agent": false,
        "last_login_at": if rng.chance(80) { json!(rng.date(2023)) } else { Value::Null },
        "two_factor_auth_enabled": if staff { json!(rng.chance(70)) } else { Value::Null },
        "signature": if staff { json!(format!("Have a nice day, {first}")) } else { Value::Null },
        "details": if rng.chance(20) { format!("{} Main Street, Springfield", rng.below(900) + 1) } else { String::new() },
        "notes": if rng.chance(15) { "Prefers email; escalations go to the account manager." } else { "" },
        "moderator": staff && rng.chance(50),
        "ticket_restriction": if staff { Value::Null } else { json!("requested") },
        "only_private_comments": false,
        "restricted_agent": !staff,
        "suspended": rng.chance(2),
        "chat_only": false,
        "default_group_id": if staff { json!(360_001_234_567u64 + rng.below(20)) } else { Value::Null },
        "report_csv": staff && rng.chance(50),
        "user_fields": {
            "employee_number": format!("{:04}", rng.below(10_000)),
            "plan": rng.pick(&["free", "team", "growth", "enterprise"]),
            "seats": rng.below(500),
            "renewal_date": format!("2025-{:02}-01", 1 + rng.below(12)),
            "vip": rng.chance(10),
            "region": if rng.chance(80) { json!(rng.pick(&["amer", "emea", "apac"])) } else { Value::Null },
            "account_manager": if rng.chance(50) { json!(format!("{} {}", rng.pick(FIRST), rng.pick(LAST))) } else { Value::Null },
            "nps": rng.below(11),
        },
    })
}

fn attachment(rng: &mut Rng, owner: i64, with_thumbnails: bool) -> Value {
    let id = 498_483 + owner % 100_000 + rng.below(1000) as i64;
    let name = if with_thumbnails {
        "profile.png"
    } else {
        "profile_thumb.png"
    };
    let thumbnails: Vec<Value> = if with_thumbnails {
        (0..2).map(|_| attachment(rng, owner + 1, false)).collect()
    } else {
        Vec::new()
    };
    json!({
        "id": id,
        "url": format!("https://acme.zendesk.com/api/v2/attachments/{id}.json"),
        "file_name": name,
        "content_url": format!("https://acme.zendesk.com/system/photos/{id}/{name}"),
        "mapped_content_url": format!("https://support.acme.com/system/photos/{id}/{name}"),
        "content_type": "image/png",
        "size": 1000 + rng.below(60_000),
        "width": if with_thumbnails { 320 } else { 80 },
        "height": if with_thumbnails { 320 } else { 80 },
        "inline": false,
        "deleted": false,
        "malware_access_override": false,
        "malware_scan_result": "malware_not_found",
        "thumbnails": thumbnails,
    })
}

/// One SendAuth user (camelCase, every property of the spec's `User`).
pub fn sendauth_user(index: usize) -> Value {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9));
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let role = match rng.below(20) {
        0 => "super_admin",
        1..=3 => "admin",
        _ => "user",
    };
    let username = format!("{first}.{last}{index}")
        .to_lowercase()
        .replace(' ', "");
    let permissions: &[&str] = if role == "user" {
        &["users.read"]
    } else {
        &["users.read", "users.write", "transactions.read"]
    };
    json!({
        "id": rng.uuid(),
        "role": role,
        "username": username,
        "firstName": first,
        "lastName": last,
        "email": format!("{username}@example.com"),
        "phone": if rng.chance(60) { json!(format!("+1415555{:04}", rng.below(10_000))) } else { Value::Null },
        "company": {
            "id": rng.uuid(),
            "orgID": rng.uuid(),
            "name": rng.pick(&["Analytical Engines Ltd", "Acme Corp", "Initech", "Globex"]),
            "createdAt": rng.date(2015),
        },
        "permissions": permissions,
        "groupPermissions": ["transactions.read"],
        "permissionGroups": [rng.uuid()],
        "messagingPreference": rng.pick(&["email", "sms", "both"]),
        "hasPasskeys": rng.chance(40),
        "createdAt": rng.date(2018),
        "lastAuthenticated": if rng.chance(85) { json!(rng.date(2024)) } else { Value::Null },
    })
}

/// `{"user": …}` for `show_user`.
pub fn zendesk_user_response() -> Vec<u8> {
    serde_json::to_vec(&json!({ "user": zendesk_user(0) })).expect("JSON")
}

/// The JSON array of the [`PAGE_SIZE`] users every Zendesk page carries.
pub fn zendesk_users_array() -> String {
    let users: Vec<Value> = (0..PAGE_SIZE).map(zendesk_user).collect();
    serde_json::to_string(&users).expect("JSON")
}

/// A whole cursor page of Zendesk users, as the server sends it for page `page` (1-based) of
/// `pages`.
pub fn zendesk_page(users_array: &str, page: u64, pages: u64, next_base: &str) -> Vec<u8> {
    let more = page < pages;
    let after = format!("c{page}");
    let before = if page > 1 {
        format!("\"c{}b\"", page - 1)
    } else {
        "null".to_string()
    };
    let next = if more {
        format!(
            "\"{next_base}/api/v2/users.json?page%5Bafter%5D={after}&page%5Bsize%5D={PAGE_SIZE}\""
        )
    } else {
        "null".to_string()
    };
    format!(
        "{{\"users\":{users_array},\"meta\":{{\"has_more\":{more},\"after_cursor\":\"{after}\",\
         \"before_cursor\":{before}}},\"links\":{{\"prev\":null,\"next\":{next}}}}}"
    )
    .into_bytes()
}

/// The body of `get_user`.
pub fn sendauth_user_response() -> Vec<u8> {
    serde_json::to_vec(&sendauth_user(0)).expect("JSON")
}

/// The JSON array of the [`PAGE_SIZE`] rows every SendAuth page carries.
pub fn sendauth_rows_array() -> String {
    let users: Vec<Value> = (0..PAGE_SIZE).map(sendauth_user).collect();
    serde_json::to_string(&users).expect("JSON")
}

/// A SendAuth page `{rows, total}`: page `page` (1-based) of `pages`; past the end, no rows.
pub fn sendauth_page(rows_array: &str, page: u64, pages: u64) -> Vec<u8> {
    let total = pages * PAGE_SIZE as u64;
    let rows = if page <= pages { rows_array } else { "[]" };
    format!("{{\"rows\":{rows},\"total\":{total}}}").into_bytes()
}
