//! Bulk user operations: any number of users, in chunks of 100, each chunk's job waited for.
//!
//! Zendesk's `create_many_users` and `create_or_update_many_users` take at most 100 users and
//! answer with a job status to poll (`show_job_status`). [`Client::create_users_in_bulk`] and
//! [`Client::create_or_update_users_in_bulk`] do the chunking and the polling (with
//! backoff) and return every per-user result, failures included, mapped back to the index of
//! the user in the input.

use std::time::Duration;

use crate::{ApiError, Client, ErrorKind, builder, types};

/// The most users one bulk request may carry.
pub const MAX_USERS_PER_JOB: usize = 100;

/// How bulk helpers wait for jobs.
///
/// ```
/// use std::time::Duration;
/// use zendesk_api::BulkOptions;
///
/// let options = BulkOptions::default().with_job_timeout(Duration::from_secs(120));
/// assert_eq!(options.job_timeout(), Duration::from_secs(120));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkOptions {
    poll_initial: Duration,
    poll_max: Duration,
    job_timeout: Duration,
}

impl Default for BulkOptions {
    /// First poll after 500 ms, backing off to 10 s between polls, 10 minutes per job.
    fn default() -> Self {
        Self {
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(10),
            job_timeout: Duration::from_secs(600),
        }
    }
}

impl BulkOptions {
    /// The first wait before polling a job; doubled after each poll.
    pub fn with_poll_initial(mut self, wait: Duration) -> Self {
        self.poll_initial = wait;
        self
    }

    /// The longest wait between polls.
    pub fn with_poll_max(mut self, wait: Duration) -> Self {
        self.poll_max = wait;
        self
    }

    /// How long one job may take before the helper gives up on it.
    pub fn with_job_timeout(mut self, timeout: Duration) -> Self {
        self.job_timeout = timeout;
        self
    }

    /// The first wait before polling a job.
    pub fn poll_initial(&self) -> Duration {
        self.poll_initial
    }

    /// The longest wait between polls.
    pub fn poll_max(&self) -> Duration {
        self.poll_max
    }

    /// How long one job may take.
    pub fn job_timeout(&self) -> Duration {
        self.job_timeout
    }
}

/// The result for one user of a bulk operation.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BulkUserResult {
    /// The user's index in the input given to the helper.
    pub input_index: usize,
    /// What the job reported for this user (`id`, `status`, `success`, `error`, `details`).
    pub result: types::JobStatusResult,
}

impl BulkUserResult {
    /// Whether Zendesk reported an error for this user.
    pub fn is_failure(&self) -> bool {
        self.result.success == Some(false) || self.result.error.is_some()
    }
}

/// Everything a bulk helper learned: each job's final status and every per-user result.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct BulkOutcome {
    /// The final status of each job, in submission order.
    pub jobs: Vec<types::JobStatus>,
    /// Every per-user result the jobs reported, in input order.
    pub results: Vec<BulkUserResult>,
    /// How many inputs, from the first, went into jobs that completed.
    pub completed_inputs: usize,
    /// The per-user results a job reported that the model refuses (one result among many
    /// with a field of an unexpected type, say): each is reported, not dropped, and the
    /// other results are kept. Whether Zendesk applied that user's change is unknown.
    pub undecodable: Vec<UndecodableResult>,
}

/// A per-user result of a bulk job that does not match its model, reported the way a
/// pagination stream reports an item it refuses: [`error`](Self::error) is an
/// [`ErrorKind::Decode`] error whose [`item_index`](ApiError::item_index) is the result's
/// position in the job's `results`, whose [`json_path`](ApiError::json_path) names the field
/// (`job_status.results[3].id`) and whose [`body`](ApiError::body) is the result's JSON as
/// received.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UndecodableResult {
    /// The job that reported it.
    pub job_id: String,
    /// The index in the helper's input of the user it is about, when the result's own
    /// `index` (or its position) says and falls within the job's inputs.
    pub input_index: Option<usize>,
    /// Why it was refused, with the result's JSON.
    pub error: std::sync::Arc<ApiError>,
}

impl PartialEq for UndecodableResult {
    /// The same job, input, path and JSON.
    fn eq(&self, other: &Self) -> bool {
        self.job_id == other.job_id
            && self.input_index == other.input_index
            && self.error.json_path() == other.error.json_path()
            && self.error.body() == other.error.body()
    }
}

/// A job status as a bulk helper reads it: every per-item result in order, decoded, or
/// refused by the model on its own.
struct ReadJob {
    job: types::JobStatus,
    results: Vec<Result<types::JobStatusResult, ApiError>>,
}

/// The job of a `JobStatusResponse` answer; when only some per-item results do not decode,
/// the job and every result decoded or refused on its own.
fn read_job(sent: Result<types::JobStatusResponse, ApiError>) -> Result<ReadJob, ApiError> {
    match sent {
        Ok(response) => {
            let job = response.job_status;
            let results = job.item_results().iter().cloned().map(Ok).collect();
            Ok(ReadJob { job, results })
        }
        Err(error) if error.kind() == ErrorKind::Decode => {
            let split = api_runtime::decode::split_listing::<
                types::JobStatusResponse,
                types::JobStatusResult,
            >(error, &["job_status", "results"])?;
            let mut job = split.envelope.job_status;
            job.results = Some(types::JobStatusResults::List(types::JobStatusResultList(
                split
                    .items
                    .iter()
                    .filter_map(|r| r.as_ref().ok().cloned())
                    .collect(),
            )));
            Ok(ReadJob {
                job,
                results: split.items,
            })
        }
        Err(error) => Err(error),
    }
}

impl BulkOutcome {
    /// The users Zendesk reported a failure for.
    pub fn failures(&self) -> impl Iterator<Item = &BulkUserResult> {
        self.results.iter().filter(|r| r.is_failure())
    }

    /// Jobs that ended `failed` or `killed`, or whose one-object result says
    /// `"success": false` (their users may have no result).
    pub fn failed_jobs(&self) -> impl Iterator<Item = &types::JobStatus> {
        self.jobs.iter().filter(|j| {
            matches!(j.status, types::JobState::Failed | types::JobState::Killed)
                || j.results.as_ref().and_then(|r| r.succeeded()) == Some(false)
        })
    }
}

impl types::JobStatusResults {
    /// The per-item results; empty when the job reported one object for the whole job.
    pub fn items(&self) -> &[types::JobStatusResult] {
        match self {
            Self::List(list) => list,
            Self::Summary(_) => &[],
        }
    }

    /// The object the job reported for the whole job (such as `{"success": true}`), or
    /// `None` when it reported per-item results.
    pub fn summary(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        match self {
            Self::List(_) => None,
            Self::Summary(summary) => Some(summary),
        }
    }

    /// The `success` of a whole-job summary, when it has a boolean one.
    pub fn succeeded(&self) -> Option<bool> {
        self.summary()?.get("success")?.as_bool()
    }
}

impl types::JobStatus {
    /// The job's per-item results so far; empty while it has none, or when it reported one
    /// object for the whole job (see [`types::JobStatusResults::summary`]).
    pub fn item_results(&self) -> &[types::JobStatusResult] {
        self.results
            .as_ref()
            .map_or(&[], types::JobStatusResults::items)
    }
}

fn is_finished(state: &types::JobState) -> bool {
    matches!(
        state,
        types::JobState::Completed | types::JobState::Failed | types::JobState::Killed
    )
}

impl Client {
    /// Creates any number of users: chunks of 100 through `create_many_users`, each job
    /// polled through `show_job_status` until it ends. Per-user failures are in the outcome,
    /// not an error; an error means a call failed or a job outlived
    /// [`BulkOptions::job_timeout`].
    pub async fn create_users_in_bulk(
        &self,
        users: Vec<types::UserCreate>,
        options: &BulkOptions,
    ) -> Result<BulkOutcome, ApiError> {
        self.in_chunks(users, options, "create_many_users", |chunk| async move {
            let sent = self
                .create_many_users()
                .body(types::UsersCreateRequest { users: chunk })
                .send()
                .await;
            read_job(sent.map(|r| r.into_inner()))
        })
        .await
    }

    /// Creates or updates any number of users (matched by email or external id): chunks of
    /// 100 through `create_or_update_many_users`, each job polled through `show_job_status`
    /// until it ends. Per-user failures are in the outcome, not an error.
    pub async fn create_or_update_users_in_bulk(
        &self,
        users: Vec<types::UserInput>,
        options: &BulkOptions,
    ) -> Result<BulkOutcome, ApiError> {
        self.in_chunks(
            users,
            options,
            "create_or_update_many_users",
            |chunk| async move {
                let sent = self
                    .create_or_update_many_users()
                    .body(types::UsersRequest { users: chunk })
                    .send()
                    .await;
                read_job(sent.map(|r| r.into_inner()))
            },
        )
        .await
    }

    /// Submits `items` in chunks of [`MAX_USERS_PER_JOB`], one job at a time, and collects
    /// every job's results. The items are moved into their chunks, never cloned. On a
    /// failure, the error carries a [`BulkInterrupted`] with the outcome so far and the
    /// items never sent.
    async fn in_chunks<T, F, Fut>(
        &self,
        items: Vec<T>,
        options: &BulkOptions,
        operation: &'static str,
        submit: F,
    ) -> Result<BulkOutcome, ApiError>
    where
        T: Send + Sync + 'static,
        F: Fn(Vec<T>) -> Fut,
        Fut: std::future::Future<Output = Result<ReadJob, ApiError>>,
    {
        let mut outcome = BulkOutcome::default();
        let mut items = items.into_iter();
        let mut offset = 0;
        loop {
            let chunk: Vec<T> = items.by_ref().take(MAX_USERS_PER_JOB).collect();
            if chunk.is_empty() {
                return Ok(outcome);
            }
            let len = chunk.len();
            let done = async {
                let job = submit(chunk)
                    .await
                    .map_err(|e| e.with_operation(operation))?;
                self.finish_job(job, offset, len, options, &mut outcome)
                    .await
            }
            .await;
            if let Err(error) = done {
                return Err(error.with_partial(BulkInterrupted {
                    outcome,
                    failed_inputs: offset..offset + len,
                    unsent: items.collect(),
                }));
            }
            outcome.completed_inputs = offset + len;
            offset += len;
        }
    }

    /// Polls `show_job_status` with backoff until the job ends.
    /// Gives up with an [`ErrorKind::Job`] error once the job has run for
    /// [`BulkOptions::job_timeout`]; any `Duration` works (`Duration::MAX`: no limit).
    ///
    /// A job status with a per-item result the model refuses fails here with that result's
    /// `Decode` error; the bulk helpers instead keep the other results and report it in
    /// [`BulkOutcome::undecodable`].
    pub async fn wait_for_job(
        &self,
        job: types::JobStatus,
        options: &BulkOptions,
    ) -> Result<types::JobStatus, ApiError> {
        self.wait_for_job_with_progress(job, options, |_, _| {})
            .await
    }

    /// [`wait_for_job`](Self::wait_for_job), calling `progress` with each status polled and
    /// the number of polls so far (its `progress` and `total` say how far the job is), for a
    /// progress bar or a log line.
    ///
    /// ```no_run
    /// # async fn run(client: &zendesk_api::Client, job: zendesk_api::types::JobStatus)
    /// # -> Result<(), zendesk_api::ApiError> {
    /// use zendesk_api::BulkOptions;
    ///
    /// let done = client
    ///     .wait_for_job_with_progress(job, &BulkOptions::default(), |job, polls| {
    ///         eprintln!("poll {polls}: {} {:?}/{:?}", job.status, job.progress, job.total);
    ///     })
    ///     .await?;
    /// println!("job {} ended {}", done.id, done.status);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_job_with_progress(
        &self,
        job: types::JobStatus,
        options: &BulkOptions,
        progress: impl FnMut(&types::JobStatus, u32),
    ) -> Result<types::JobStatus, ApiError> {
        let read = ReadJob {
            results: job.item_results().iter().cloned().map(Ok).collect(),
            job,
        };
        let read = self.wait_for(read, options, progress).await?;
        match read.results.into_iter().find_map(Result::err) {
            Some(error) => Err(error),
            None => Ok(read.job),
        }
    }

    /// [`Self::wait_for_job`], keeping each per-item result decoded or refused.
    async fn wait_for(
        &self,
        read: ReadJob,
        options: &BulkOptions,
        mut progress: impl FnMut(&types::JobStatus, u32),
    ) -> Result<ReadJob, ApiError> {
        let clock = self.inner.clock();
        let started = clock.now();
        let mut polls = 0u32;
        let mut wait = options.poll_initial;
        let mut read = read;
        while !is_finished(&read.job.status) {
            let elapsed = clock.now().saturating_duration_since(started);
            if elapsed.saturating_add(wait) > options.job_timeout {
                return Err(ApiError::new(
                    ErrorKind::Job,
                    format!(
                        "job {} is still {} after {:?}",
                        read.job.id, read.job.status, options.job_timeout
                    ),
                )
                .with_operation("show_job_status"));
            }
            clock.sleep(wait).await;
            wait = wait.saturating_mul(2).min(options.poll_max);
            let sent = self
                .show_job_status()
                .job_status_id(read.job.id.clone())
                .send()
                .await;
            read = read_job(sent.map(|r| r.into_inner()))?;
            polls = polls.saturating_add(1);
            progress(&read.job, polls);
        }
        Ok(read)
    }

    /// Waits for the job of the chunk of `len` inputs starting at input `offset`, then records
    /// its per-user results under their input indexes. An index the server gives outside the
    /// chunk is an [`ErrorKind::Job`] error naming the job, never an index a caller could
    /// panic on.
    async fn finish_job(
        &self,
        job: ReadJob,
        offset: usize,
        len: usize,
        options: &BulkOptions,
        outcome: &mut BulkOutcome,
    ) -> Result<(), ApiError> {
        let ReadJob {
            job,
            results: items,
        } = self.wait_for(job, options, |_, _| {}).await?;
        let mut results = Vec::with_capacity(items.len());
        let mut undecodable = Vec::new();
        for (position, item) in items.into_iter().enumerate() {
            let result = match item {
                Ok(result) => result,
                Err(error) => {
                    // The refused result's own `index`, when it has a readable one.
                    let index = serde_json::from_slice::<serde_json::Value>(error.body())
                        .ok()
                        .and_then(|raw| raw.get("index")?.as_u64())
                        .and_then(|i| usize::try_from(i).ok())
                        .unwrap_or(position);
                    undecodable.push(UndecodableResult {
                        job_id: job.id.clone(),
                        input_index: (index < len).then_some(offset + index),
                        error: std::sync::Arc::new(error),
                    });
                    continue;
                }
            };
            let within = match result.index {
                None => position,
                Some(index) => match usize::try_from(index) {
                    Ok(index) if index < len => index,
                    _ => {
                        return Err(ApiError::new(
                            ErrorKind::Job,
                            format!(
                                "job {} reported a result for index {index}, outside its {len} \
                                 inputs",
                                job.id
                            ),
                        )
                        .with_operation("show_job_status"));
                    }
                },
            };
            results.push(BulkUserResult {
                input_index: offset + within,
                result,
            });
        }
        outcome.results.extend(results);
        outcome.undecodable.extend(undecodable);
        outcome.jobs.push(job);
        Ok(())
    }
}

/// What a bulk helper had done when it failed, attached to its error: take it, typed by the
/// helper, with [`BulkErrors`] (`T` is the helper's input type).
///
/// ```no_run
/// # async fn run(client: zendesk_api::Client, users: Vec<zendesk_api::types::UserCreate>)
/// # -> Result<(), zendesk_api::ApiError> {
/// use zendesk_api::{BulkErrors, BulkOptions};
///
/// match client.create_users_in_bulk(users, &BulkOptions::default()).await {
///     Ok(outcome) => println!("{} users created", outcome.results.len()),
///     Err(mut err) => {
///         if let Some(partial) = err.take_create_users_in_bulk_interrupted() {
///             println!(
///                 "{} inputs done; inputs {:?} may or may not be; {} never sent",
///                 partial.outcome.completed_inputs,
///                 partial.failed_inputs,
///                 partial.unsent.len(),
///             );
///             // Retry `partial.unsent` once the cause is fixed.
///         }
///         return Err(err);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkInterrupted<T> {
    /// The jobs that completed before the failure and their per-user results
    /// (`completed_inputs` says how many inputs they covered).
    pub outcome: BulkOutcome,
    /// The input indexes of the chunk whose submission or job failed: Zendesk may or may not
    /// have applied it (check before sending it again).
    pub failed_inputs: std::ops::Range<usize>,
    /// The inputs after that chunk, never sent, in order (input indexes from
    /// `failed_inputs.end`).
    pub unsent: Vec<T>,
}

/// What each bulk helper left when it failed, typed by the helper: no type to name.
/// Implemented for [`ApiError`] only.
pub trait BulkErrors: sealed::Sealed {
    /// Takes out what [`Client::create_users_in_bulk`] had done when it failed; `None` for
    /// an error of another call (or once taken).
    fn take_create_users_in_bulk_interrupted(
        &mut self,
    ) -> Option<BulkInterrupted<types::UserCreate>>;

    /// Takes out what [`Client::create_or_update_users_in_bulk`] had done when it failed;
    /// `None` for an error of another call (or once taken).
    fn take_create_or_update_users_in_bulk_interrupted(
        &mut self,
    ) -> Option<BulkInterrupted<types::UserInput>>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::ApiError {}
}

impl BulkErrors for ApiError {
    fn take_create_users_in_bulk_interrupted(
        &mut self,
    ) -> Option<BulkInterrupted<types::UserCreate>> {
        self.take_partial()
    }

    fn take_create_or_update_users_in_bulk_interrupted(
        &mut self,
    ) -> Option<BulkInterrupted<types::UserInput>> {
        self.take_partial()
    }
}

/// A list of ids joined with commas, as Zendesk's `ids` / `external_ids` parameters take it.
///
/// An external id that contains a comma cannot be sent this way: the list then fails to
/// convert and the call returns an `InvalidRequest` error before any I/O.
#[derive(Clone, Debug)]
pub struct IdList(Result<String, String>);

impl IdList {
    /// Numeric ids (`ids`).
    pub fn ids(ids: impl IntoIterator<Item = i64>) -> Self {
        Self(Ok(ids
            .into_iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",")))
    }

    /// External ids (`external_ids`); none may contain a comma.
    pub fn external_ids<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Self {
        let mut joined = Vec::new();
        for id in ids {
            let id = id.as_ref();
            if id.contains(',') {
                return Self(Err(format!("external id {id:?} contains a comma")));
            }
            joined.push(id.to_string());
        }
        Self(Ok(joined.join(",")))
    }
}

impl TryFrom<IdList> for String {
    type Error = String;
    fn try_from(list: IdList) -> Result<Self, Self::Error> {
        list.0
    }
}

/// `.id_list(...)` and `.external_id_list(...)` on builders whose generated `ids` /
/// `external_ids` take a comma-joined string.
macro_rules! id_lists {
    ($builder:ident, ids) => {
        impl<'a> builder::$builder<'a> {
            /// Sets `ids` from a list of user ids.
            pub fn id_list(self, ids: impl IntoIterator<Item = i64>) -> Self {
                self.ids(IdList::ids(ids))
            }
        }
    };
    ($builder:ident, ids, external_ids) => {
        id_lists!($builder, ids);
        impl<'a> builder::$builder<'a> {
            /// Sets `external_ids` from a list of external ids (none may contain a comma).
            pub fn external_id_list<S: AsRef<str>>(self, ids: impl IntoIterator<Item = S>) -> Self {
                self.external_ids(IdList::external_ids(ids))
            }
        }
    };
}

id_lists!(ShowManyUsers, ids, external_ids);
id_lists!(DestroyManyUsers, ids, external_ids);
id_lists!(UpdateManyUsers, ids, external_ids);
id_lists!(LogoutManyUsers, ids);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_results_come_as_a_list_or_as_one_object() {
        let list: types::JobStatus = serde_json::from_value(serde_json::json!({
            "id": "j1", "status": "completed",
            "results": [{"index": 0, "id": 244, "status": "Created", "success": true}]
        }))
        .unwrap();
        assert_eq!(list.item_results().len(), 1);
        assert_eq!(list.item_results()[0].id, Some(244));
        assert!(list.results.as_ref().unwrap().summary().is_none());

        let summary: types::JobStatus = serde_json::from_value(serde_json::json!({
            "id": "j2", "status": "completed", "results": {"success": true}
        }))
        .unwrap();
        assert!(summary.item_results().is_empty());
        let results = summary.results.as_ref().unwrap();
        assert!(matches!(results, types::JobStatusResults::Summary(_)));
        assert_eq!(results.succeeded(), Some(true));

        let failed: types::JobStatus = serde_json::from_value(serde_json::json!({
            "id": "j3", "status": "completed", "results": {"success": false}
        }))
        .unwrap();
        let outcome = BulkOutcome {
            jobs: vec![list, summary, failed],
            ..BulkOutcome::default()
        };
        let failed: Vec<&str> = outcome.failed_jobs().map(|j| j.id.as_str()).collect();
        assert_eq!(failed, ["j3"]);

        let none: types::JobStatus = serde_json::from_value(
            serde_json::json!({"id": "j4", "status": "queued", "results": null}),
        )
        .unwrap();
        assert!(none.item_results().is_empty());
    }

    #[test]
    fn id_lists_join_with_commas() {
        assert_eq!(
            String::try_from(IdList::ids([1, 22, 333])).unwrap(),
            "1,22,333"
        );
        assert_eq!(
            String::try_from(IdList::external_ids(["crm-1", "crm-2"])).unwrap(),
            "crm-1,crm-2"
        );
        assert!(String::try_from(IdList::external_ids(["a,b"])).is_err());
    }
}
