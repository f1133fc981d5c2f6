//! A listing and a bulk operation added to a scratch copy of a spec get, from their
//! `x-pagination` and `x-job` alone, everything `cargo xtask generate` writes for them.

/// `specs/<service>.yaml` with `extra` paths first, generated in memory as `cargo xtask
/// generate` does: every output file, by the path it would be written to.
fn generate_scratch(service: &str, extra: &str) -> Vec<(String, String)> {
    let root = crate::workspace::root();
    let text =
        std::fs::read_to_string(root.join(format!("specs/{service}.yaml"))).expect("the spec");
    let dir = std::env::temp_dir().join(format!("xtask-paging-{service}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let spec_path = dir.join(format!("{service}.yaml"));
    std::fs::write(
        &spec_path,
        text.replacen("\npaths:\n", &format!("\npaths:\n{extra}"), 1),
    )
    .expect("the scratch spec");
    let generated = super::generate(&crate::workspace::Service {
        name: service.into(),
        spec_path,
        crate_dir: dir.clone(),
    });
    let _ = std::fs::remove_dir_all(&dir);
    generated
        .expect("the scratch spec generates")
        .files
        .into_iter()
        .map(|(path, content)| {
            let path = path.strip_prefix(&dir).unwrap_or(&path);
            let path = path.strip_prefix(&root).unwrap_or(path);
            (path.display().to_string(), content)
        })
        .collect()
}

/// The content of the output file whose path ends with `suffix`, without whitespace.
fn file(files: &[(String, String)], suffix: &str) -> String {
    let (_, content) = files
        .iter()
        .find(|(path, _)| path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} among the outputs"));
    content.split_whitespace().collect()
}

/// A listing added to a spec, with nothing else written by hand, gets its stream methods,
/// its `--all`, its mock page scenario and its `OPERATIONS.md` row; a bulk operation its
/// `--wait`, its mock job scenario and its row.
#[test]
fn a_paginated_operation_added_to_a_scratch_spec_gets_all_four() {
    let files = generate_scratch("sendauth", crate::paging_gen::tests::WIDGETS);
    let client = file(&files, "src/generated.rs");
    assert!(
        client.contains(
            "::api_runtime::page_number_pagination!(crate::builder::ListWidgets<'a>,\
             types::UserPage,rows,types::User,\"list_widgets\");"
        ),
        "the client's .pages(), .stream() and .resume_from()"
    );
    let cli = file(&files, "user-apis-cli/src/generated/sendauth.rs");
    assert!(
        cli.contains("CliCommand::ListWidgets=>Some(crate::services::Paging::Resumable)"),
        "--all and --resume on the command"
    );
    assert!(
        cli.contains(
            "CliCommand::ListWidgets=>Some(matchself.request_list_widgets(matches){Ok(request)\
             =>crate::services::all(request,cmd.operation_id(),matches).await"
        ),
        "--all streams it"
    );
    let mocks = file(&files, "sendauth-api-mock/src/generated.rs");
    assert!(
        mocks.contains(
            "fnlist_widgets_in_pages(&self,items:&[::sendauth_api::types::User],per_page:usize,)\
             ->Vec<::httpmock::Mock<'_>>{::api_mock::pages::pages::<_,operations::ListWidgetsWhen>(\
             self,items,per_page,\"rows\",\"/api/v1/widgets\",)"
        ),
        "the mock's page scenario"
    );
    let table = file(&files, "OPERATIONS.md");
    assert!(
        table.contains(
            "|`list_widgets`|`GET/api/v1/widgets`|`client.list_widgets().send()`;`.stream()`,\
             `.pages()`,`.resume_from(…)`:page-numberpagesof`rows`upto`total`|"
        ),
        "the OPERATIONS.md row"
    );

    let bulk = "  /api/v2/widgets/create_many:
    post:
      operationId: create_many_widgets
      x-job: {status: job_status}
      responses:
        '200':
          description: The queued job.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/JobStatusResponse'}
";
    let files = generate_scratch("zendesk", bulk);
    let cli = file(&files, "user-apis-cli/src/generated/zendesk.rs");
    assert!(
        cli.contains("matches!(self,CliCommand::CreateManyUsers|CliCommand::CreateManyWidgets|"),
        "--wait on the command"
    );
    assert!(
        cli.contains(
            "matchself.request_create_many_widgets(matches){Ok(request)\
             =>request.send().await.map(|response|response.into_inner().job_status)"
        ),
        "--wait sends it and takes its job"
    );
    let mocks = file(&files, "zendesk-api-mock/src/generated.rs");
    assert!(
        mocks.contains(
            "fncreate_many_widgets_answers_job(&self,job:&::zendesk_api::types::JobStatus,)\
             ->::httpmock::Mock<'_>{::api_mock::pages::answer_field::<\
             operations::CreateManyWidgetsWhen,_>(self,200u16,\"job_status\",job"
        ),
        "the mock's job scenario"
    );
    let table = file(&files, "OPERATIONS.md");
    assert!(
        table.contains(
            "`client.create_many_widgets().send()`;answersajob(`job_status`):\
             `client.wait_for_job(…)`"
        ),
        "the OPERATIONS.md row"
    );
}
