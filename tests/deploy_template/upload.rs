//! `deploy/upload.yaml`: the upload arrangement (issue 17) and the backfill's function and job role
//! (issue 18). What a deployment relies on: three private buckets, no dependency cycle (the bucket's
//! notification needs the function and its permission), each role holding exactly what it needs, the
//! functions' settings as `src/triggers/settings.rs` reads them, and CloudFront reading the served bucket
//! through origin access control, with the `showExif` rewrite run in Node.js against the transform's
//! own rule.

use std::collections::{BTreeMap, BTreeSet};

use edge_signer::triggers::settings;

use super::*;

// ---- Dependencies, as CloudFormation orders resources ----

/// The resources `value` refers to: `Ref` (SAM's `F.Version` and `F.Alias` included), `Fn::GetAtt`, and
/// the `${X}` / `${X.Attr}` of `Fn::Sub` (parameters and pseudo parameters are not resources).
fn refers_to(value: &Value, names: &Map<String, Value>, out: &mut BTreeSet<String>) {
    let mut add = |name: &str| {
        let name = name.split('.').next().unwrap_or(name);
        if names.contains_key(name) {
            out.insert(name.to_owned());
        }
    };
    match value {
        Value::Object(object) => {
            if let Some(name) = object.get("Ref").and_then(Value::as_str) {
                add(name);
            }
            if let Some((name, _)) = get_att(value) {
                add(name);
            }
            let sub = object.get("Fn::Sub");
            let pattern = sub.and_then(|s| s.as_str().or_else(|| s.get(0)?.as_str()));
            if let Some(pattern) = pattern {
                for piece in pattern.split("${").skip(1) {
                    let name = piece.split('}').next().unwrap_or_default();
                    if !name.starts_with('!') {
                        add(name);
                    }
                }
            }
            for (key, inner) in object {
                if key != "Fn::Sub" || !inner.is_string() {
                    refers_to(inner, names, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refers_to(item, names, out)),
        _ => {}
    }
}

/// No resource depends on itself through `Ref`, `GetAtt`, `Sub` or `DependsOn`: CloudFormation refuses
/// such a template ("Circular dependency between resources").
pub(super) fn check_acyclic(template: &Value) -> Check {
    let names = resources(template);
    let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (name, resource) in names {
        let mut out = BTreeSet::new();
        refers_to(&resource["Properties"], names, &mut out);
        for depends in list(&resource["DependsOn"]) {
            if let Some(depends) = depends.as_str() {
                out.insert(depends.to_owned());
            }
        }
        edges.insert(name, out);
    }
    // Depth-first search; `path` is the chain being explored.
    fn visit<'a>(
        node: &'a str,
        edges: &'a BTreeMap<&str, BTreeSet<String>>,
        done: &mut BTreeSet<&'a str>,
        path: &mut Vec<&'a str>,
    ) -> Check {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node);
            return Err(format!("circular dependency: {}", cycle.join(" -> ")));
        }
        if done.contains(node) {
            return Ok(());
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some((key, _)) = edges.get_key_value(next.as_str()) {
                visit(key, edges, done, path)?;
            }
        }
        path.pop();
        done.insert(node);
        Ok(())
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut done, &mut Vec::new())?;
    }
    Ok(())
}

// ---- The parts, found by what they are ----

struct Parts<'a> {
    s3_event: &'a str,
    backfill: &'a str,
    upload_bucket: &'a str,
    served_bucket: &'a str,
    jobs_bucket: &'a str,
    distribution: &'a str,
}

fn function_from<'a>(t: &'a Value, zip: &str) -> Result<&'a str, String> {
    let found: Vec<_> = of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, f)| f["Properties"]["CodeUri"] == format!("../dist/{zip}"))
        .collect();
    match found.as_slice() {
        [(name, _)] => Ok(name),
        _ => Err(format!("upload: expected one function from ../dist/{zip}")),
    }
}

fn bucket_name(t: &Value, bucket: &str) -> Result<String, String> {
    text(&resources(t)[bucket]["Properties"]["BucketName"])
        .map(str::to_owned)
        .ok_or(format!("{bucket}: no BucketName the policies can name"))
}

fn parts(t: &Value) -> Result<Parts<'_>, String> {
    let s3_event = function_from(t, "s3-event-al2023.zip")?;
    let backfill = function_from(t, "s3-batch-al2023.zip")?;
    let buckets = of_type(t, "AWS::S3::Bucket");
    let notified: Vec<_> = buckets
        .iter()
        .filter(|(_, b)| b["Properties"].get("NotificationConfiguration").is_some())
        .collect();
    let [(upload_bucket, _)] = notified.as_slice() else {
        return Err(format!(
            "upload: expected one bucket with notifications (the upload bucket), found {}",
            notified.len()
        ));
    };
    let (distribution, d) = the_one(t, "AWS::CloudFront::Distribution")?;
    let origins = list(&d["Properties"]["DistributionConfig"]["Origins"]);
    let [origin] = origins.as_slice() else {
        return Err("cloudfront: expected one origin, the served bucket".into());
    };
    let served_bucket = get_att(&origin["DomainName"])
        .filter(|(_, attribute)| *attribute == "RegionalDomainName")
        .map(|(bucket, _)| bucket)
        .ok_or(format!(
            "cloudfront: the origin is not a bucket's RegionalDomainName: {}",
            origin["DomainName"]
        ))?;
    ensure(served_bucket != *upload_bucket, || {
        "upload: the served bucket is the upload bucket (every write would come back as an upload)".into()
    })?;
    let rest: Vec<_> = buckets
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name != upload_bucket && *name != served_bucket)
        .collect();
    let [jobs_bucket] = rest.as_slice() else {
        return Err("upload: expected a third bucket, for manifests and reports".into());
    };
    Ok(Parts {
        s3_event,
        backfill,
        upload_bucket,
        served_bucket,
        jobs_bucket,
        distribution,
    })
}

fn bucket_arn(t: &Value, bucket: &str, path: &str) -> Result<Value, String> {
    Ok(json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{}{path}", bucket_name(t, bucket)?) }))
}

/// Every (action, resource) a role is granted, resources in their JSON form.
fn grants(t: &Value, role: &str) -> Result<BTreeSet<(String, String)>, String> {
    let mut all = BTreeSet::new();
    for statement in role_statements(t, role)? {
        ensure(statement.get("Condition").is_none(), || {
            format!("{role}: a condition this check does not read: {statement}")
        })?;
        for action in list(&statement["Action"]) {
            for resource in list(&statement["Resource"]) {
                all.insert((action.as_str().unwrap_or("?").to_owned(), resource.to_string()));
            }
        }
    }
    Ok(all)
}

/// The role's grants are exactly `expected`, naming the first grant too many or missing.
fn check_exact_grants(t: &Value, role: &str, expected: &[(&str, Value)]) -> Check {
    check_least_privilege(t, role)?;
    let expected: BTreeSet<_> = expected
        .iter()
        .map(|(action, resource)| ((*action).to_owned(), resource.to_string()))
        .collect();
    let granted = grants(t, role)?;
    if let Some((action, resource)) = granted.difference(&expected).next() {
        return Err(format!("{role}: {action} on {resource} is more than it needs"));
    }
    if let Some((action, resource)) = expected.difference(&granted).next() {
        return Err(format!("{role}: lacks {action} on {resource}"));
    }
    Ok(())
}

fn function_role<'a>(t: &'a Value, function: &str) -> Result<&'a str, String> {
    get_att(&resources(t)[function]["Properties"]["Role"])
        .filter(|(_, attribute)| *attribute == "Arn")
        .map(|(role, _)| role)
        .ok_or(format!("{function}: Role is not !GetAtt <role>.Arn"))
}

fn log_grants(t: &Value, function: &str) -> Result<Vec<(&'static str, Value)>, String> {
    let name = text(&resources(t)[function]["Properties"]["FunctionName"]).unwrap_or_default();
    let groups: Vec<_> = of_type(t, "AWS::Logs::LogGroup")
        .into_iter()
        .filter(|(_, g)| text(&g["Properties"]["LogGroupName"]) == Some(&format!("/aws/lambda/{name}")))
        .collect();
    let [(group, _)] = groups.as_slice() else {
        return Err(format!("{function}: no log group /aws/lambda/{name}"));
    };
    let arn = json!({ "Fn::GetAtt": [group, "Arn"] });
    Ok(vec![
        ("logs:CreateLogStream", arn.clone()),
        ("logs:PutLogEvents", arn),
    ])
}

/// `!If [C, !Ref P, !Ref AWS::NoValue]` with `C` = `P` is not empty: the variable is set only when the
/// parameter is (the settings refuse an empty EXIF suffix, and an empty prefix is no prefix).
fn set_when_not_empty(t: &Value, value: &Value, parameter: &str) -> bool {
    let Some([condition, then, otherwise]) = value.get("Fn::If").and_then(Value::as_array).map(Vec::as_slice)
    else {
        return false;
    };
    let not_empty = json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": parameter }, ""] }] });
    condition
        .as_str()
        .is_some_and(|c| t["Conditions"][c] == not_empty)
        && reference(then) == Some(parameter)
        && reference(otherwise) == Some("AWS::NoValue")
}

/// The functions' shared set-up: provided.al2023 `bootstrap` on x86_64, `RecursiveLoop: Terminate`, a
/// reserved concurrency (a number, or a parameter whose default is one), and exactly the `EDGE_SIGNER_*`
/// variables of `src/triggers/settings.rs`, writing to the served bucket.
fn check_trigger_function(t: &Value, function: &str, served: &str) -> Check {
    let p = &resources(t)[function]["Properties"];
    ensure(
        p["Runtime"] == "provided.al2023" && p["Handler"] == "bootstrap",
        || format!("{function}: not a provided.al2023 bootstrap"),
    )?;
    ensure(list(&p["Architectures"]) == [&json!("x86_64")], || {
        format!("{function}: not x86_64")
    })?;
    ensure(p["RecursiveLoop"] == "Terminate", || {
        format!("{function}: RecursiveLoop is not Terminate")
    })?;
    let concurrency = &p["ReservedConcurrentExecutions"];
    let capped = match concurrency.get("Fn::If").and_then(Value::as_array) {
        Some(arms) => reference(&arms[1]).is_some_and(|parameter| {
            let default = &t["Parameters"][parameter]["Default"];
            default
                .as_str()
                .is_some_and(|d| d.parse::<u32>().is_ok_and(|n| n > 0))
        }),
        None => concurrency.as_u64().is_some_and(|n| n > 0),
    };
    ensure(capped, || {
        format!("{function}: no reserved concurrency by default: {concurrency}")
    })?;

    let variables = p["Environment"]["Variables"]
        .as_object()
        .ok_or(format!("{function}: no environment"))?;
    let known = [
        settings::SOURCE_PREFIX,
        settings::DEST_BUCKET,
        settings::DEST_PREFIX,
        settings::EXIF_SUFFIX,
        settings::MAX_OBJECT_BYTES,
    ];
    for name in variables.keys() {
        ensure(known.contains(&name.as_str()), || {
            format!("{function}: {name} is not a setting the function reads")
        })?;
    }
    for (variable, parameter) in [
        (settings::SOURCE_PREFIX, "SourcePrefix"),
        (settings::DEST_PREFIX, "DestPrefix"),
        (settings::EXIF_SUFFIX, "ExifSuffix"),
    ] {
        let value = &variables.get(variable).cloned().unwrap_or_default();
        ensure(set_when_not_empty(t, value, parameter), || {
            format!("{function}: {variable} is not set from {parameter} only when it is not empty: {value}")
        })?;
    }
    ensure(
        variables.get(settings::DEST_BUCKET) == Some(&json!({ "Fn::Sub": bucket_name(t, served)? })),
        || format!("{function}: {} is not the served bucket", settings::DEST_BUCKET),
    )?;
    let max = variables.get(settings::MAX_OBJECT_BYTES).and_then(reference);
    ensure(
        max.is_some_and(|m| t["Parameters"][m]["MinValue"].as_u64().is_some_and(|v| v >= 1)),
        || {
            format!(
                "{function}: {} is not a parameter of at least 1",
                settings::MAX_OBJECT_BYTES
            )
        },
    )?;
    // A `*` in a prefix parameter would become an IAM wildcard in the roles.
    for parameter in ["SourcePrefix", "DestPrefix"] {
        let pattern = t["Parameters"][parameter]["AllowedPattern"]
            .as_str()
            .unwrap_or("");
        let classes_without_star = pattern
            .split('[')
            .skip(1)
            .all(|class| !class.split(']').next().unwrap_or_default().contains('*'));
        ensure(!pattern.is_empty() && classes_without_star, || {
            format!("{parameter}: its AllowedPattern lets * through: {pattern:?}")
        })?;
    }
    Ok(())
}

/// The prefix filter on ObjectCreated, invoking the s3-event function; S3's invoke permission scoped to
/// this account and this bucket, created before the bucket (S3 checks it when the notification is set).
fn check_notification(t: &Value, parts: &Parts) -> Check {
    let bucket = &resources(t)[parts.upload_bucket];
    let configurations = list(&bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]);
    let [configuration] = configurations.as_slice() else {
        return Err("upload bucket: expected one Lambda notification".into());
    };
    ensure(configuration["Event"] == "s3:ObjectCreated:*", || {
        format!(
            "upload bucket: notifies {}, not s3:ObjectCreated:*",
            configuration["Event"]
        )
    })?;
    ensure(
        get_att(&configuration["Function"]) == Some((parts.s3_event, "Arn")),
        || "upload bucket: the notification does not invoke the s3-event function".into(),
    )?;
    let filter = json!({ "S3Key": { "Rules": [{ "Name": "prefix", "Value": { "Ref": "SourcePrefix" } }] } });
    let arms = configuration["Filter"]["Fn::If"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure(
        arms.len() == 3 && arms[1] == filter && reference(&arms[2]) == Some("AWS::NoValue"),
        || {
            format!(
                "upload bucket: the filter is not the source prefix: {}",
                configuration["Filter"]
            )
        },
    )?;

    let permissions: Vec<_> = of_type(t, "AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| get_att(&p["Properties"]["FunctionName"]) == Some((parts.s3_event, "Arn")))
        .collect();
    let [(permission, p)] = permissions.as_slice() else {
        return Err("s3-event: expected one invoke permission".into());
    };
    let p = &p["Properties"];
    ensure(
        p["Action"] == "lambda:InvokeFunction" && p["Principal"] == "s3.amazonaws.com",
        || format!("{permission}: not lambda:InvokeFunction for s3.amazonaws.com"),
    )?;
    ensure(reference(&p["SourceAccount"]) == Some("AWS::AccountId"), || {
        format!("{permission}: SourceAccount is not this account")
    })?;
    ensure(p["SourceArn"] == bucket_arn(t, parts.upload_bucket, "")?, || {
        format!(
            "{permission}: SourceArn is not the upload bucket: {}",
            p["SourceArn"]
        )
    })?;
    ensure(list(&bucket["DependsOn"]).contains(&&json!(permission)), || {
        format!("upload bucket: does not depend on {permission}")
    })?;
    for (name, other) in of_type(t, "AWS::S3::Bucket") {
        ensure(
            name == parts.upload_bucket || other["Properties"].get("NotificationConfiguration").is_none(),
            || format!("{name}: notifications on a bucket the functions write to"),
        )?;
    }
    Ok(())
}

/// Async invocation: at most 2 retries, within 6 hours, then an SQS queue of this stack.
fn check_on_failure(t: &Value, function: &str) -> Result<String, String> {
    let config = &resources(t)[function]["Properties"]["EventInvokeConfig"];
    let retries = config["MaximumRetryAttempts"].as_u64();
    ensure(retries.is_some_and(|r| r <= 2), || {
        format!(
            "{function}: MaximumRetryAttempts is not 0-2: {}",
            config["MaximumRetryAttempts"]
        )
    })?;
    ensure(
        config["MaximumEventAgeInSeconds"]
            .as_u64()
            .is_none_or(|a| (60..=21600).contains(&a)),
        || format!("{function}: MaximumEventAgeInSeconds out of 60-21600"),
    )?;
    let on_failure = &config["DestinationConfig"]["OnFailure"];
    let queue = get_att(&on_failure["Destination"])
        .filter(|(q, a)| {
            *a == "Arn"
                && resources(t)
                    .get(*q)
                    .is_some_and(|r| r["Type"] == "AWS::SQS::Queue")
        })
        .map(|(q, _)| q.to_owned());
    match (on_failure["Type"].as_str(), queue) {
        (Some("SQS"), Some(queue)) => Ok(queue),
        _ => Err(format!(
            "{function}: no on-failure destination to an SQS queue of this stack"
        )),
    }
}

/// An alarm when the metric goes above 0: `namespace`/`metric` with exactly `dimension`.
fn check_alarm(t: &Value, namespace: &str, metric: &str, dimension: Value) -> Check {
    let found = of_type(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .any(|(_, alarm)| {
            let p = &alarm["Properties"];
            p["Namespace"] == namespace
                && p["MetricName"] == metric
                && list(&p["Dimensions"]) == [&dimension]
                && p["Threshold"] == json!(0)
                && p["ComparisonOperator"] == "GreaterThanThreshold"
        });
    ensure(found, || {
        format!("no alarm on {namespace} {metric} > 0 for {dimension}")
    })
}

fn check_s3_event(t: &Value, parts: &Parts) -> Check {
    check_trigger_function(t, parts.s3_event, parts.served_bucket)?;
    let queue = check_on_failure(t, parts.s3_event)?;
    check_alarm(
        t,
        "AWS/Lambda",
        "RecursiveInvocationsDropped",
        json!({ "Name": "FunctionName", "Value": { "Ref": parts.s3_event } }),
    )?;
    check_alarm(
        t,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        json!({ "Name": "QueueName", "Value": { "Fn::GetAtt": [queue, "QueueName"] } }),
    )?;
    check_notification(t, parts)?;
    let role = function_role(t, parts.s3_event)?;
    let source = bucket_arn(t, parts.upload_bucket, "/${SourcePrefix}*")?;
    let dest = bucket_arn(t, parts.served_bucket, "/${DestPrefix}*")?;
    let mut expected = vec![
        ("s3:GetObject", source.clone()),
        ("s3:GetObjectVersion", source),
        ("s3:GetObject", dest.clone()),
        ("s3:PutObject", dest),
        ("s3:ListBucket", bucket_arn(t, parts.upload_bucket, "")?),
        ("s3:ListBucket", bucket_arn(t, parts.served_bucket, "")?),
        ("sqs:SendMessage", json!({ "Fn::GetAtt": [queue, "Arn"] })),
    ];
    expected.extend(log_grants(t, parts.s3_event)?);
    check_exact_grants(t, role, &expected)
}

/// The backfill function (a published version) and the role of the Batch Operations job: trusted by
/// batchoperations.s3.amazonaws.com only, invoking exactly that version, reading manifests and
/// inventories, writing reports.
fn check_backfill(t: &Value, parts: &Parts) -> Check {
    check_trigger_function(t, parts.backfill, parts.served_bucket)?;
    let function = &resources(t)[parts.backfill]["Properties"];
    ensure(function["AutoPublishAlias"].is_string(), || {
        "backfill: no AutoPublishAlias, so no published version to pin a job to".into()
    })?;
    ensure(
        function["Environment"] == resources(t)[parts.s3_event]["Properties"]["Environment"],
        || "backfill: settings other than the s3-event function's".into(),
    )?;
    let from_upload = json!({ "Fn::Equals": [{ "Ref": "BackfillSourceBucket" }, ""] });
    ensure(t["Conditions"]["BackfillFromUploadBucket"] == from_upload, || {
        "backfill: BackfillFromUploadBucket is not BackfillSourceBucket = \"\"".into()
    })?;
    let source = |path: &str| -> Result<Value, String> {
        Ok(json!({ "Fn::If": [
            "BackfillFromUploadBucket",
            bucket_arn(t, parts.upload_bucket, path)?,
            { "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::${{BackfillSourceBucket}}{path}") },
        ] }))
    };
    let dest = bucket_arn(t, parts.served_bucket, "/${DestPrefix}*")?;
    let mut expected = vec![
        ("s3:GetObject", source("/${SourcePrefix}*")?),
        ("s3:GetObjectVersion", source("/${SourcePrefix}*")?),
        ("s3:GetObject", dest.clone()),
        ("s3:PutObject", dest),
        ("s3:ListBucket", source("")?),
        ("s3:ListBucket", bucket_arn(t, parts.served_bucket, "")?),
    ];
    expected.extend(log_grants(t, parts.backfill)?);
    check_exact_grants(t, function_role(t, parts.backfill)?, &expected)?;

    // The job's role: the one role trusted by Batch Operations.
    let roles: Vec<_> = of_type(t, "AWS::IAM::Role")
        .into_iter()
        .filter(|(_, r)| {
            r["Properties"]["AssumeRolePolicyDocument"]
                .to_string()
                .contains("batchoperations")
        })
        .collect();
    let [(job_role, r)] = roles.as_slice() else {
        return Err("backfill: expected one role trusted by batchoperations.s3.amazonaws.com".into());
    };
    let trust = statements(&r["Properties"]["AssumeRolePolicyDocument"]);
    let expected_trust = json!({
        "Effect": "Allow",
        "Principal": { "Service": "batchoperations.s3.amazonaws.com" },
        "Action": "sts:AssumeRole",
    });
    ensure(trust == [&expected_trust], || {
        format!("{job_role}: trust is not exactly batchoperations.s3.amazonaws.com: {trust:?}")
    })?;
    let jobs = |path: &str| json!({ "Fn::Sub": format!("${{{}.Arn}}/{path}", parts.jobs_bucket) });
    check_exact_grants(
        t,
        job_role,
        &[
            (
                "lambda:InvokeFunction",
                json!({ "Ref": format!("{}.Version", parts.backfill) }),
            ),
            ("s3:GetObject", jobs("manifests/*")),
            ("s3:GetObjectVersion", jobs("manifests/*")),
            ("s3:GetObject", jobs("inventory/*")),
            ("s3:GetObjectVersion", jobs("inventory/*")),
            ("s3:PutObject", jobs("reports/*")),
            (
                "s3:GetBucketLocation",
                json!({ "Fn::GetAtt": [parts.jobs_bucket, "Arn"] }),
            ),
        ],
    )
}

/// The Allow statements of a bucket's policy, exactly.
fn check_bucket_allows(t: &Value, bucket: &str, expected: &[Value]) -> Check {
    let (_, policy) = of_type(t, "AWS::S3::BucketPolicy")
        .into_iter()
        .find(|(_, p)| reference(&p["Properties"]["Bucket"]) == Some(bucket))
        .ok_or(format!("{bucket}: no policy"))?;
    let allows: Vec<Value> = statements(&policy["Properties"]["PolicyDocument"])
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .map(|s| {
            let mut s = s.clone();
            s.as_object_mut().map(|o| o.remove("Sid"));
            s
        })
        .collect();
    ensure(allows == expected, || {
        format!("{bucket} policy: allows {allows:?}, expected exactly {expected:?}")
    })
}

/// CloudFront: one origin, the served bucket, signed by an origin access control (SigV4, always); the
/// bucket lets only this distribution read, only the destination prefix; viewers on HTTPS, GET and
/// HEAD, compression, the path alone as the cache key; no Lambda@Edge; with an EXIF suffix, the
/// showExif CloudFront Function on viewer-request.
fn check_served(t: &Value, parts: &Parts) -> Check {
    let config = &resources(t)[parts.distribution]["Properties"]["DistributionConfig"];
    let origin = &config["Origins"][0];
    let (oac, control) = the_one(t, "AWS::CloudFront::OriginAccessControl")?;
    let control = &control["Properties"]["OriginAccessControlConfig"];
    ensure(
        control["OriginAccessControlOriginType"] == "s3"
            && control["SigningBehavior"] == "always"
            && control["SigningProtocol"] == "sigv4",
        || format!("cloudfront: the origin access control does not always sign for s3: {control}"),
    )?;
    ensure(
        get_att(&origin["OriginAccessControlId"]) == Some((oac, "Id"))
            && origin["S3OriginConfig"]["OriginAccessIdentity"] == "",
        || "cloudfront: the origin is not read through the origin access control".into(),
    )?;
    check_bucket_allows(
        t,
        parts.served_bucket,
        &[json!({
            "Effect": "Allow",
            "Principal": { "Service": "cloudfront.amazonaws.com" },
            "Action": "s3:GetObject",
            "Resource": { "Fn::Sub": format!("${{{}.Arn}}/${{DestPrefix}}*", parts.served_bucket) },
            "Condition": { "StringEquals": { "AWS:SourceArn": { "Fn::Sub": format!(
                "arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{}}}",
                parts.distribution
            ) } } },
        })],
    )?;
    check_bucket_allows(t, parts.upload_bucket, &[])?;
    check_bucket_allows(
        t,
        parts.jobs_bucket,
        &[json!({
            "Effect": "Allow",
            "Principal": { "Service": "s3.amazonaws.com" },
            "Action": "s3:PutObject",
            "Resource": { "Fn::Sub": format!("${{{}.Arn}}/inventory/*", parts.jobs_bucket) },
            "Condition": {
                "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } },
                "ArnLike": { "aws:SourceArn": { "Fn::If": [
                    "BackfillFromUploadBucket",
                    bucket_arn(t, parts.upload_bucket, "")?,
                    { "Fn::Sub": "arn:${AWS::Partition}:s3:::${BackfillSourceBucket}" },
                ] } },
            },
        })],
    )?;

    let behavior = &config["DefaultCacheBehavior"];
    ensure(config["CacheBehaviors"].is_null(), || {
        "cloudfront: cache behaviours beyond the default one".into()
    })?;
    ensure(
        matches!(
            behavior["ViewerProtocolPolicy"].as_str(),
            Some("redirect-to-https" | "https-only")
        ),
        || "cloudfront: viewers allowed on plain HTTP".into(),
    )?;
    ensure(behavior["Compress"] == json!(true), || {
        "cloudfront: compression off".into()
    })?;
    ensure(
        list(&behavior["AllowedMethods"])
            .iter()
            .all(|m| *m == "GET" || *m == "HEAD"),
        || "cloudfront: methods beyond GET and HEAD".into(),
    )?;
    let cache = &referenced(t, &behavior["CachePolicyId"], "cache policy")?["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"];
    ensure(
        cache["QueryStringsConfig"]["QueryStringBehavior"] == "none"
            && cache["HeadersConfig"]["HeaderBehavior"] == "none"
            && cache["CookiesConfig"]["CookieBehavior"] == "none",
        || format!("cloudfront: the cache key holds more than the path: {cache}"),
    )?;
    ensure(behavior.get("LambdaFunctionAssociations").is_none(), || {
        "cloudfront: a Lambda@Edge association (this stack needs none)".into()
    })?;

    let (function, f) = the_one(t, "AWS::CloudFront::Function")?;
    ensure(
        f["Condition"] == "ServeExif"
            && f["Properties"]["AutoPublish"] == json!(true)
            && f["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0",
        || format!("{function}: not a published cloudfront-js-2.0 function under ServeExif"),
    )?;
    let association = json!({ "Fn::If": [
        "ServeExif",
        [{ "EventType": "viewer-request", "FunctionARN": { "Fn::GetAtt": [function, "FunctionARN"] } }],
        { "Ref": "AWS::NoValue" },
    ] });
    ensure(behavior["FunctionAssociations"] == association, || {
        format!(
            "cloudfront: the showExif function is not the viewer-request association: {}",
            behavior["FunctionAssociations"]
        )
    })?;
    let serve_exif = json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "ExifSuffix" }, ""] }] });
    ensure(t["Conditions"]["ServeExif"] == serve_exif, || {
        "cloudfront: ServeExif is not ExifSuffix != \"\"".into()
    })
}

pub(super) fn check_upload(system: &System) -> Check {
    let t = &system.upload;
    check_acyclic(t)?;
    let parts = parts(t)?;
    for (bucket, _) in of_type(t, "AWS::S3::Bucket") {
        check_private_bucket(t, bucket)?;
    }
    check_s3_event(t, &parts)?;
    check_backfill(t, &parts)?;
    check_served(t, &parts)?;
    for (role, _) in of_type(t, "AWS::IAM::Role") {
        check_least_privilege(t, role)?;
    }
    Ok(())
}

// ---- The showExif CloudFront Function, run ----

/// The function's code as CloudFront runs it, with `ExifSuffix` at its default.
fn show_exif_code(t: &Value) -> (String, String) {
    let (_, function) = the_one(t, "AWS::CloudFront::Function").unwrap();
    let suffix = t["Parameters"]["ExifSuffix"]["Default"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = text(&function["Properties"]["FunctionCode"]).unwrap();
    assert_eq!(code.matches("${").count(), 1, "one substitution, the suffix");
    (code.replace("${ExifSuffix}", &suffix), suffix)
}

/// A viewer-request event as CloudFront Functions builds it from a query string: each name once, its
/// first value in `value`, every value in `multiValue` when there are several.
fn viewer_request(uri: &str, query: &str) -> Value {
    let mut querystring = Map::new();
    let mut order = Vec::new();
    let mut values: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !values.contains_key(name) {
            order.push(name);
        }
        values.entry(name).or_default().push(value);
    }
    for name in order {
        let all = &values[name];
        let mut entry = json!({ "value": all[0] });
        if all.len() > 1 {
            entry["multiValue"] = all.iter().map(|v| json!({ "value": v })).collect();
        }
        querystring.insert(name.to_owned(), entry);
    }
    json!({
        "version": "1.0",
        "context": { "eventType": "viewer-request" },
        "viewer": { "ip": "198.51.100.1" },
        "request": { "method": "GET", "uri": uri, "querystring": querystring, "headers": {}, "cookies": {} },
    })
}

fn node_available() -> bool {
    let available = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        available || std::env::var_os("CI").is_none(),
        "node is required under CI=true (the CloudFront Function is run by this test)"
    );
    if !available {
        eprintln!("skipped: node is not installed (outside CI only)");
    }
    available
}

#[test]
fn show_exif_asks_for_the_exif_json_exactly_when_the_transform_would_answer_with_it() {
    if !node_available() {
        return;
    }
    let system = read_system();
    let (code, suffix) = show_exif_code(&system.upload);
    let queries = [
        "",
        "showExif=true",
        "showExif=TRUE",
        "showExif=True",
        "showExif=false",
        "showExif=1",
        "showExif=",
        "showExif",
        "showexif=true",
        "a=1&showExif=true&b=2",
        "showExif=true&showExif=false",
        "showExif=false&showExif=true",
        "size=2",
    ];
    let events: Vec<Value> = queries
        .iter()
        .map(|q| viewer_request("/a/red%20flower.jpg", q))
        .collect();
    let script = format!(
        "{code}\nconst events = {};\nprocess.stdout.write(JSON.stringify(events.map(e => handler(e))));\n",
        Value::Array(events)
    );
    let output = std::process::Command::new("node")
        .args(["-e", &script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    for (query, answer) in queries.iter().zip(&answers) {
        let expected_uri = if edge_signer::transform::show_exif(query) {
            format!("/a/red%20flower.jpg{suffix}")
        } else {
            "/a/red%20flower.jpg".to_owned()
        };
        assert_eq!(answer["uri"], expected_uri, "query {query:?}");
        assert_eq!(
            answer["querystring"],
            json!({}),
            "query {query:?}: nothing else reaches S3"
        );
        assert_eq!(answer["method"], "GET");
    }
}

#[test]
fn the_upload_stack_is_private_acyclic_least_privilege_and_served_through_oac() {
    check_upload(&read_system()).unwrap();
}

#[test]
fn the_other_templates_have_no_dependency_cycle_either() {
    let system = read_system();
    check_acyclic(&system.main).unwrap();
    check_acyclic(&system.edge).unwrap();
}

// ---- Each check bites ----

fn upload_statements<'a>(s: &'a mut System, role: &str) -> &'a mut Vec<Value> {
    s.upload["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
}

fn upload_properties<'a>(s: &'a mut System, name: &str) -> &'a mut Value {
    &mut s.upload["Resources"][name]["Properties"]
}

#[test]
fn naming_the_upload_bucket_resource_in_its_functions_policy_is_a_cycle() {
    rejected(
        |s| {
            upload_statements(s, "S3EventRole")[0]["Resource"] = json!({ "Fn::Sub": "${UploadBucket.Arn}/*" })
        },
        "circular dependency",
    );
    rejected(
        |s| {
            upload_properties(s, "S3EventInvokePermission")["SourceArn"] =
                json!({ "Fn::GetAtt": ["UploadBucket", "Arn"] })
        },
        "circular dependency",
    );
}

#[test]
fn more_than_the_upload_needs_is_rejected() {
    rejected(
        |s| {
            upload_statements(s, "S3EventRole")[0]["Resource"] =
                json!({ "Fn::Sub": "arn:${AWS::Partition}:s3:::*" })
        },
        "is a wildcard",
    );
    rejected(
        |s| {
            upload_statements(s, "S3EventRole")[1]["Action"] =
                json!(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
        },
        "s3:DeleteObject on",
    );
    rejected(
        |s| upload_statements(s, "S3EventRole")[1]["Resource"] = json!({ "Fn::Sub": "arn:${AWS::Partition}:s3:::${SystemName}-${AWS::AccountId}-${AWS::Region}-upload/*" }),
        "is more than it needs",
    );
    rejected(
        |s| upload_statements(s, "S3EventRole")[1]["Action"] = json!("s3:*"),
        "wildcard action",
    );
    rejected(
        |s| {
            upload_statements(s, "S3EventRole").remove(3);
        },
        "lacks sqs:SendMessage",
    );
}

#[test]
fn an_upload_function_without_its_guards_is_rejected() {
    rejected(
        |s| upload_properties(s, "S3EventFunction")["RecursiveLoop"] = json!("Allow"),
        "RecursiveLoop",
    );
    rejected(
        |s| {
            upload_properties(s, "RecursiveLoopAlarm")["Dimensions"][0]["Value"] =
                json!({ "Ref": "BackfillFunction" })
        },
        "no alarm on AWS/Lambda RecursiveInvocationsDropped",
    );
    rejected(
        |s| upload_properties(s, "FailedUploadsAlarm")["Threshold"] = json!(10),
        "no alarm on AWS/SQS",
    );
    rejected(
        |s| {
            upload_properties(s, "S3EventFunction")
                .as_object_mut()
                .unwrap()
                .remove("ReservedConcurrentExecutions")
                .map(drop)
                .unwrap()
        },
        "no reserved concurrency",
    );
    rejected(
        |s| s.upload["Parameters"]["UploadConcurrency"]["Default"] = json!("none"),
        "no reserved concurrency",
    );
    rejected(
        |s| upload_properties(s, "S3EventFunction")["EventInvokeConfig"]["MaximumRetryAttempts"] = json!(5),
        "MaximumRetryAttempts",
    );
    rejected(
        |s| {
            upload_properties(s, "S3EventFunction")["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] =
                json!("SNS")
        },
        "on-failure destination",
    );
    rejected(
        |s| {
            upload_properties(s, "S3EventFunction")["Environment"]["Variables"]["EDGE_SIGNER_EXIF_SUFFIX"] =
                json!({ "Ref": "ExifSuffix" })
        },
        "EDGE_SIGNER_EXIF_SUFFIX is not set from ExifSuffix only when it is not empty",
    );
    rejected(
        |s| {
            upload_properties(s, "S3EventFunction")["Environment"]["Variables"]["EDGE_SIGNER_SOURCE_PREFIXES"] =
                json!("a/")
        },
        "is not a setting the function reads",
    );
    rejected(
        |s| {
            upload_properties(s, "S3EventFunction")["Environment"]["Variables"]["EDGE_SIGNER_DEST_BUCKET"] =
                json!({ "Fn::Sub": "${SystemName}-${AWS::AccountId}-${AWS::Region}-upload" })
        },
        "is not the served bucket",
    );
    rejected(
        |s| s.upload["Parameters"]["SourcePrefix"]["AllowedPattern"] = json!("^([A-Za-z0-9_.*-]+/)*$"),
        "lets * through",
    );
}

#[test]
fn a_notification_or_permission_wider_than_the_upload_bucket_is_rejected() {
    rejected(
        |s| {
            upload_properties(s, "S3EventInvokePermission")
                .as_object_mut()
                .unwrap()
                .remove("SourceAccount")
                .map(drop)
                .unwrap()
        },
        "SourceAccount",
    );
    rejected(
        |s| {
            upload_properties(s, "S3EventInvokePermission")["SourceArn"] =
                json!({ "Fn::Sub": "arn:${AWS::Partition}:s3:::*" })
        },
        "SourceArn is not the upload bucket",
    );
    rejected(
        |s| {
            upload_properties(s, "UploadBucket")["NotificationConfiguration"]["LambdaConfigurations"][0]["Event"] =
                json!("s3:ObjectRemoved:*")
        },
        "not s3:ObjectCreated",
    );
    rejected(
        |s| {
            upload_properties(s, "UploadBucket")["NotificationConfiguration"]["LambdaConfigurations"][0]
                .as_object_mut()
                .unwrap()
                .remove("Filter")
                .map(drop)
                .unwrap()
        },
        "the filter is not the source prefix",
    );
    rejected(
        |s| {
            s.upload["Resources"]["UploadBucket"]
                .as_object_mut()
                .unwrap()
                .remove("DependsOn")
                .map(drop)
                .unwrap()
        },
        "does not depend on S3EventInvokePermission",
    );
    rejected(
        |s| {
            let notification = upload_properties(s, "UploadBucket")["NotificationConfiguration"].clone();
            upload_properties(s, "ServedBucket")["NotificationConfiguration"] = notification;
        },
        "expected one bucket with notifications",
    );
}

#[test]
fn a_backfill_job_role_beyond_its_published_version_is_rejected() {
    rejected(
        |s| {
            upload_statements(s, "BatchJobRole")[0]["Resource"] =
                json!({ "Fn::GetAtt": ["BackfillFunction", "Arn"] })
        },
        "is more than it needs",
    );
    rejected(
        |s| upload_statements(s, "BatchJobRole")[0]["Resource"] = json!({ "Ref": "BackfillFunction.Alias" }),
        "is more than it needs",
    );
    rejected(
        |s| upload_statements(s, "BatchJobRole")[2]["Resource"] = json!({ "Fn::Sub": "${JobsBucket.Arn}/*" }),
        "is more than it needs",
    );
    rejected(
        |s| {
            upload_properties(s, "BatchJobRole")["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] =
                json!(["batchoperations.s3.amazonaws.com", "lambda.amazonaws.com"])
        },
        "trust is not exactly batchoperations",
    );
    rejected(
        |s| {
            upload_properties(s, "BackfillFunction")
                .as_object_mut()
                .unwrap()
                .remove("AutoPublishAlias")
                .map(drop)
                .unwrap()
        },
        "AutoPublishAlias",
    );
    rejected(
        |s| {
            upload_statements(s, "BackfillRole")[1]["Action"] =
                json!(["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl"])
        },
        "s3:PutObjectAcl on",
    );
    rejected(
        |s| {
            upload_properties(s, "BackfillFunction")["Environment"]["Variables"]["EDGE_SIGNER_MAX_OBJECT_BYTES"] =
                json!("1")
        },
        "is not a parameter of at least 1",
    );
}

#[test]
fn cloudfront_without_oac_or_with_a_wider_bucket_policy_is_rejected() {
    fn config(s: &mut System) -> &mut Value {
        &mut upload_properties(s, "Distribution")["DistributionConfig"]
    }
    rejected(
        |s| {
            config(s)["Origins"][0]
                .as_object_mut()
                .unwrap()
                .remove("OriginAccessControlId")
                .map(drop)
                .unwrap()
        },
        "not read through the origin access control",
    );
    rejected(
        |s| {
            upload_properties(s, "OriginAccessControl")["OriginAccessControlConfig"]["SigningBehavior"] =
                json!("no-override")
        },
        "does not always sign",
    );
    rejected(
        |s| {
            upload_properties(s, "ServedBucketPolicy")["PolicyDocument"]["Statement"][1]
                .as_object_mut()
                .unwrap()
                .remove("Condition")
                .map(drop)
                .unwrap()
        },
        "ServedBucket policy: allows",
    );
    rejected(
        |s| {
            upload_properties(s, "ServedBucketPolicy")["PolicyDocument"]["Statement"][1]["Action"] =
                json!(["s3:GetObject", "s3:ListBucket"])
        },
        "ServedBucket policy: allows",
    );
    rejected(
        |s| {
            config(s)["Origins"][0]["DomainName"] =
                json!({ "Fn::GetAtt": ["UploadBucket", "RegionalDomainName"] })
        },
        "the served bucket is the upload bucket",
    );
    rejected(
        |s| config(s)["DefaultCacheBehavior"]["FunctionAssociations"] = json!({ "Ref": "AWS::NoValue" }),
        "not the viewer-request association",
    );
    rejected(
        |s| {
            config(s)["DefaultCacheBehavior"]["FunctionAssociations"]["Fn::If"][1][0]["EventType"] =
                json!("viewer-response")
        },
        "not the viewer-request association",
    );
    rejected(
        |s| {
            upload_properties(s, "CachePolicy")["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
                ["QueryStringsConfig"] = json!({ "QueryStringBehavior": "all" })
        },
        "the cache key holds more than the path",
    );
    rejected(
        |s| config(s)["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = json!("allow-all"),
        "plain HTTP",
    );
    rejected(
        |s| {
            upload_properties(s, "JobsBucket")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] =
                json!(false)
        },
        "JobsBucket: BlockPublicPolicy",
    );
}
