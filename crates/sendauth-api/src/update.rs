//! Read-modify-write updates.
//!
//! SendAuth's `update_user` takes a whole user (`firstName` and `lastName` required, as for
//! `create_user`), not a patch. [`Client::update_user_with`] reads the user, lets the caller
//! change what it wants, and sends the rest back as it was read.

use crate::{ApiError, Client, types};

impl From<&types::User> for types::UserInput {
    /// The writable fields of a user as read, and the fields the model does not list
    /// (`extra`, the company's included), so that sending it back keeps them. Read-only
    /// fields (`id`, `username`, `hasPasskeys`, `createdAt`, `lastAuthenticated`, the
    /// company's `createdAt`) are left out, and so is `groupPermissions`: the service
    /// computes it from the permission groups.
    fn from(user: &types::User) -> Self {
        Self {
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.clone(),
            phone: user.phone.clone(),
            role: user.role.clone(),
            company: user.company.as_ref().map(|c| types::CompanyInput {
                id: c.id,
                org_id: c.org_id,
                name: c.name.clone(),
                extra: c.extra.clone(),
            }),
            permissions: user.permissions.clone(),
            group_permissions: None,
            permission_groups: user.permission_groups.clone(),
            messaging_preference: user.messaging_preference.clone(),
            extra: user.extra.clone(),
        }
    }
}

impl Client {
    /// Changes some fields of a user: reads it with `get_user`, lets `change` edit its
    /// writable fields, and sends the result with `update_user`. Returns the user as stored.
    ///
    /// `update_user` replaces the user's writable fields with the body it is sent (see
    /// the crate docs): here every writable field `change` leaves alone is sent back as it
    /// was read, fields the model does not list included ([`types::User::extra`]), so the
    /// update changes only what `change` did. It is not atomic: a change someone else makes
    /// between the read and the write is overwritten.
    ///
    /// Fails with [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest), without
    /// sending the update, when the user read has an empty `firstName` or `lastName` and
    /// `change` sets none: SendAuth requires both.
    ///
    /// ```no_run
    /// # async fn example(client: sendauth_api::Client, id: uuid::Uuid) -> Result<(), sendauth_api::ApiError> {
    /// let user = client
    ///     .update_user_with(id, |user| user.phone = Some("+14155550199".into()))
    ///     .await?;
    /// assert_eq!(user.phone.as_deref(), Some("+14155550199"));
    /// # Ok(()) }
    /// ```
    pub async fn update_user_with(
        &self,
        user_id: uuid::Uuid,
        change: impl FnOnce(&mut types::UserInput),
    ) -> Result<types::User, ApiError> {
        let current = self.get_user().user_id(user_id).send().await?.into_inner();
        let mut input = types::UserInput::from(&current);
        change(&mut input);
        for (field, value) in [
            ("firstName", &input.first_name),
            ("lastName", &input.last_name),
        ] {
            if value.is_empty() {
                return Err(ApiError::invalid_request(
                    "update_user",
                    format!(
                        "the user read has an empty `{field}` and the change set none; \
                         SendAuth requires one: set it in the closure"
                    ),
                ));
            }
        }
        Ok(self
            .update_user()
            .user_id(user_id)
            .body(input)
            .send()
            .await?
            .into_inner())
    }
}
