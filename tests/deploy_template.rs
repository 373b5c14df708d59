//! The deployment templates (`deploy/edge.yaml`, us-east-1; `deploy/template.yaml`, any region; and
//! `deploy/upload.yaml`, the upload and backfill stack, checked in `deploy_template/upload.rs`) read as
//! CloudFormation reads them, short-form tags included, and checked for the security properties the
//! system relies on. Each check returns the first violation it finds, so that the tests at the end can
//! show every check rejecting a mutated copy of the templates.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value, json};

// ---- Reading: YAML with CloudFormation's short-form tags -> the JSON (long) form ----

/// `!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` -> `{"Fn::Sub": s}`,
/// and every other `!Tag v` -> `{"Fn::Tag": v}`: the form CloudFormation itself converts YAML to.
fn to_json(yaml: yaml_serde::Value) -> Result<Value, String> {
    Ok(match yaml {
        yaml_serde::Value::Null => Value::Null,
        yaml_serde::Value::Bool(b) => Value::Bool(b),
        yaml_serde::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64())
            }
        }
        yaml_serde::Value::String(s) => Value::String(s),
        yaml_serde::Value::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        yaml_serde::Value::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let yaml_serde::Value::String(key) = key else {
                    return Err(format!("a mapping key that is not a string: {key:?}"));
                };
                object.insert(key, to_json(value)?);
            }
            Value::Object(object)
        }
        yaml_serde::Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = to_json(tagged.value)?;
            match (tag, value) {
                ("Ref", value) => json!({ "Ref": value }),
                ("GetAtt", Value::String(dotted)) => {
                    let (resource, attribute) = dotted
                        .split_once('.')
                        .ok_or_else(|| format!("!GetAtt {dotted}: no attribute"))?;
                    json!({ "Fn::GetAtt": [resource, attribute] })
                }
                (tag, value) => json!({ format!("Fn::{tag}"): value }),
            }
        }
    })
}

fn parse(text: &str) -> Result<Value, String> {
    let yaml: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    to_json(yaml)
}

/// Both stacks of the on-read system, as deployed together, and the upload stack (deployed alone).
#[derive(Clone)]
struct System {
    edge: Value,
    main: Value,
    upload: Value,
}

fn read_system() -> System {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let read = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    System {
        edge: read("edge.yaml"),
        main: read("template.yaml"),
        upload: read("upload.yaml"),
    }
}

// ---- Helpers over the JSON form ----

type Check = Result<(), String>;

fn ensure(condition: bool, message: impl FnOnce() -> String) -> Check {
    if condition { Ok(()) } else { Err(message()) }
}

fn resources(template: &Value) -> &Map<String, Value> {
    template["Resources"].as_object().expect("Resources")
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(name, r)| (name.as_str(), r))
        .collect()
}

fn the_one<'a>(template: &'a Value, kind: &str) -> Result<(&'a str, &'a Value), String> {
    match of_type(template, kind).as_slice() {
        [one] => Ok(*one),
        all => Err(format!("expected exactly one {kind}, found {}", all.len())),
    }
}

fn reference(value: &Value) -> Option<&str> {
    value.get("Ref")?.as_str()
}

fn get_att(value: &Value) -> Option<(&str, &str)> {
    match value.get("Fn::GetAtt")?.as_array()?.as_slice() {
        [resource, attribute] => Some((resource.as_str()?, attribute.as_str()?)),
        _ => None,
    }
}

/// A plain string, or the pattern of a `Fn::Sub` with no variable map.
fn text(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value.get("Fn::Sub")?.as_str())
}

/// A value or a list of values, as IAM policies allow for Action, Resource, Principal entries.
fn list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        one => vec![one],
    }
}

fn statements(document: &Value) -> Vec<&Value> {
    list(&document["Statement"])
}

/// The resource a `!Ref X` or `!GetAtt X.Arn` names.
fn named_resource(value: &Value) -> Option<&str> {
    reference(value).or_else(|| get_att(value).map(|(resource, _)| resource))
}

// ---- Checks ----

/// The bucket: every public-access block on, default encryption, a policy denying plain HTTP, no public
/// grant of any kind.
fn check_bucket(system: &System) -> Check {
    let (bucket, _) = the_one(&system.main, "AWS::S3::Bucket")?;
    check_private_bucket(&system.main, bucket)
}

/// One bucket of a template: every public-access block on, default encryption, exactly one policy,
/// which denies plain HTTP and grants nothing to `*`.
fn check_private_bucket(t: &Value, bucket: &str) -> Check {
    let properties = &resources(t)[bucket]["Properties"];
    let block = &properties["PublicAccessBlockConfiguration"];
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        ensure(block[flag] == json!(true), || {
            format!("{bucket}: {flag} is not true")
        })?;
    }
    let rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        .as_array()
        .filter(|rules| !rules.is_empty())
        .ok_or(format!("{bucket}: no BucketEncryption"))?;
    for rule in rules {
        let algorithm = rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"].as_str();
        ensure(
            matches!(algorithm, Some("AES256" | "aws:kms" | "aws:kms:dsse")),
            || format!("{bucket}: encryption rule without an algorithm: {rule}"),
        )?;
    }
    for public in ["AccessControl", "WebsiteConfiguration", "CorsConfiguration"] {
        ensure(properties.get(public).is_none(), || {
            format!("{bucket}: {public} is set")
        })?;
    }

    let policies: Vec<_> = of_type(t, "AWS::S3::BucketPolicy")
        .into_iter()
        .filter(|(_, p)| reference(&p["Properties"]["Bucket"]) == Some(bucket))
        .collect();
    let [(_, policy)] = policies.as_slice() else {
        return Err(format!(
            "{bucket}: expected one bucket policy, found {}",
            policies.len()
        ));
    };
    let document = &policy["Properties"]["PolicyDocument"];
    let tls_only = statements(document).into_iter().any(|s| {
        let resources: Vec<_> = list(&s["Resource"]).into_iter().map(text_or_att).collect();
        s["Effect"] == "Deny"
            && s["Principal"] == "*"
            && list(&s["Action"]).contains(&&json!("s3:*"))
            && resources.contains(&Some(format!("{bucket}.Arn")))
            && resources.contains(&Some(format!("${{{bucket}.Arn}}/*")))
            && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    });
    ensure(tls_only, || {
        format!("{bucket}: no statement denying s3:* without aws:SecureTransport")
    })?;
    for statement in statements(document) {
        if statement["Effect"] == "Allow" {
            ensure(!statement["Principal"].to_string().contains("\"*\""), || {
                format!("{bucket} policy: a public Allow: {statement}")
            })?;
        }
    }
    Ok(())
}

/// `${X.Arn}`-style text, or `X.Arn` for a `!GetAtt X.Arn`.
fn text_or_att(value: &Value) -> Option<String> {
    text(value)
        .map(str::to_owned)
        .or_else(|| get_att(value).map(|(r, a)| format!("{r}.{a}")))
}

/// The Lambda@Edge function of the edge stack and its role's logical name.
fn edge_function(system: &System) -> Result<(&str, &Value, &str), String> {
    let functions: Vec<_> = of_type(&system.edge, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, f)| f["Properties"]["CodeUri"] == "../dist/lambda-edge.zip")
        .collect();
    let [(name, function)] = functions.as_slice() else {
        return Err("edge: expected one function from ../dist/lambda-edge.zip".into());
    };
    let role = get_att(&function["Properties"]["Role"])
        .filter(|(_, attribute)| *attribute == "Arn")
        .map(|(role, _)| role)
        .ok_or("edge function: Role is not !GetAtt <role>.Arn")?;
    Ok((name, function, role))
}

/// Every statement of a role: its inline policies, and any AWS::IAM::Policy attached to it. A role with
/// managed policies cannot be checked here, so it is refused.
fn role_statements<'a>(template: &'a Value, role: &str) -> Result<Vec<&'a Value>, String> {
    let resource = &resources(template)
        .get(role)
        .ok_or(format!("no resource {role}"))?;
    ensure(resource["Type"] == "AWS::IAM::Role", || {
        format!("{role} is not an AWS::IAM::Role")
    })?;
    ensure(resource["Properties"].get("ManagedPolicyArns").is_none(), || {
        format!("{role}: managed policies cannot be checked here")
    })?;
    let mut all: Vec<&Value> = list(&resource["Properties"]["Policies"])
        .into_iter()
        .flat_map(|p| statements(&p["PolicyDocument"]))
        .collect();
    for kind in [
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
    ] {
        for (_, policy) in of_type(template, kind) {
            let properties = &policy["Properties"];
            let roles = list(&properties["Roles"])
                .into_iter()
                .chain(list(&properties["RoleName"]));
            if roles.filter_map(reference).any(|r| r == role) {
                all.extend(statements(&properties["PolicyDocument"]));
            }
        }
    }
    Ok(all)
}

/// No wildcard action (`*`, `s3:*`, `s3:Get*`), no `NotAction`/`NotResource`, no `*` resource, and every
/// resource an ARN of this account (a `*` region only for CloudWatch Logs, which Lambda@Edge replicas
/// write in every region).
fn check_least_privilege(template: &Value, role: &str) -> Check {
    for statement in role_statements(template, role)? {
        ensure(statement["Effect"] == "Allow", || {
            format!("{role}: a statement that is not Allow")
        })?;
        for not in ["NotAction", "NotResource", "NotPrincipal"] {
            ensure(statement.get(not).is_none(), || {
                format!("{role}: {not} in {statement}")
            })?;
        }
        let actions = list(&statement["Action"]);
        ensure(!actions.is_empty(), || {
            format!("{role}: a statement without Action")
        })?;
        for action in actions {
            let action = action
                .as_str()
                .ok_or(format!("{role}: an action that is not a string"))?;
            ensure(!action.contains('*'), || {
                format!("{role}: wildcard action {action}")
            })?;
        }
        let resources = list(&statement["Resource"]);
        ensure(!resources.is_empty(), || {
            format!("{role}: a statement without Resource")
        })?;
        for resource in resources {
            check_resource(template, role, resource)?;
        }
    }
    Ok(())
}

/// One resource of a role's statement: a resource of this template (`!GetAtt X.Arn`, `${X.Arn}/…`, the
/// version or alias SAM publishes, `!Ref F.Version`), either branch of an `!If`, or an ARN of this account that
/// is no wildcard. S3 bucket and object ARNs have no region or account; their bucket part must then be
/// a name without `*`.
fn check_resource(template: &Value, role: &str, resource: &Value) -> Check {
    if let Some(arms) = resource.get("Fn::If").and_then(Value::as_array) {
        for arm in arms.iter().skip(1) {
            check_resource(template, role, arm)?;
        }
        return Ok(());
    }
    if get_att(resource).is_some() {
        return Ok(()); // a resource of this template
    }
    let ours = |name: &str| resources(template).contains_key(name);
    let published =
        reference(resource).and_then(|r| r.strip_suffix(".Version").or_else(|| r.strip_suffix(".Alias")));
    if let Some(function) = published {
        return ensure(ours(function), || {
            format!("{role}: resource {resource} is not a version of this template")
        });
    }
    let arn = text(resource).ok_or(format!("{role}: resource {resource} is not an ARN"))?;
    ensure(arn != "*", || format!("{role}: resource *"))?;
    if let Some((name, _)) = arn.strip_prefix("${").and_then(|a| a.split_once(".Arn}")) {
        return ensure(ours(name), || {
            format!("{role}: resource {arn} is not one of this template")
        });
    }
    // `${AWS::AccountId}` holds colons of its own: split on the ARN's colons only.
    let arn = arn.replace("${AWS::", "${AWS.");
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, _partition, service, region, account, rest] = fields.as_slice() else {
        return Err(format!("{role}: resource {arn} is not an ARN"));
    };
    ensure(*scheme == "arn" && !service.contains('*'), || {
        format!("{role}: resource {arn}")
    })?;
    if *service == "s3" && region.is_empty() && account.is_empty() {
        let bucket = rest.split('/').next().unwrap_or_default();
        return ensure(!bucket.is_empty() && !bucket.contains('*'), || {
            format!("{role}: resource {arn} is a wildcard")
        });
    }
    ensure(*account == "${AWS.AccountId}", || {
        format!("{role}: resource {arn} is not in this account")
    })?;
    ensure(!region.contains('*') || *service == "logs", || {
        format!("{role}: resource {arn} in any region")
    })?;
    ensure(!rest.is_empty() && *rest != "*", || {
        format!("{role}: resource {arn} is a wildcard")
    })
}

fn called_via_object_lambda(statement: &Value) -> bool {
    let via = &statement["Condition"]["ForAnyValue:StringEquals"]["aws:CalledVia"];
    list(via) == [&json!("s3-object-lambda.amazonaws.com")]
}

/// The names both stacks must agree on, from template.yaml.
struct Names {
    object_lambda_access_point: String,
    supporting_access_point: String,
    transform_function: String,
}

fn names(system: &System) -> Result<Names, String> {
    let t = &system.main;
    let name = |kind: &str, property: &str| -> Result<String, String> {
        let (_, resource) = the_one(t, kind)?;
        text(&resource["Properties"][property])
            .map(str::to_owned)
            .ok_or(format!("{kind}: {property} is not a name"))
    };
    let transform = transform_function(system)?.1;
    Ok(Names {
        object_lambda_access_point: name("AWS::S3ObjectLambda::AccessPoint", "Name")?,
        supporting_access_point: name("AWS::S3::AccessPoint", "Name")?,
        transform_function: text(&transform["Properties"]["FunctionName"])
            .ok_or("transform: FunctionName is not a name")?
            .to_owned(),
    })
}

/// The edge role: trusted by exactly lambda and edgelambda; exactly the actions the chain needs, on the
/// resources of this system (the names template.yaml gives them), the ones S3 Object Lambda uses on the
/// caller's behalf only when called via S3 Object Lambda; no wildcard.
fn check_edge_role(system: &System) -> Check {
    let (_, _, role) = edge_function(system)?;
    let t = &system.edge;
    let trust = statements(&resources(t)[role]["Properties"]["AssumeRolePolicyDocument"]);
    let [trust] = trust.as_slice() else {
        return Err("edge role: expected one trust statement".into());
    };
    let services: BTreeSet<_> = list(&trust["Principal"]["Service"])
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    ensure(
        trust["Effect"] == "Allow"
            && list(&trust["Action"]) == [&json!("sts:AssumeRole")]
            && services == BTreeSet::from(["edgelambda.amazonaws.com", "lambda.amazonaws.com"])
            && trust["Principal"].as_object().is_some_and(|p| p.len() == 1),
        || format!("edge role: trust is not exactly lambda + edgelambda: {trust}"),
    )?;
    check_least_privilege(t, role)?;

    let names = names(system)?;
    let region_account = "${StorageRegion}:${AWS::AccountId}";
    let expected = [
        (
            "s3-object-lambda:GetObject",
            vec![format!(
                "arn:${{AWS::Partition}}:s3-object-lambda:{region_account}:accesspoint/{}",
                names.object_lambda_access_point
            )],
            false,
        ),
        (
            "s3:GetObject",
            vec![format!(
                "arn:${{AWS::Partition}}:s3:{region_account}:accesspoint/{}/object/*",
                names.supporting_access_point
            )],
            true,
        ),
        (
            "lambda:InvokeFunction",
            vec![
                format!(
                    "arn:${{AWS::Partition}}:lambda:{region_account}:function:{}",
                    names.transform_function
                ),
                format!(
                    "arn:${{AWS::Partition}}:lambda:{region_account}:function:{}:$LATEST",
                    names.transform_function
                ),
            ],
            true,
        ),
    ];
    let logs = BTreeSet::from(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]);
    let mut seen = BTreeSet::new();
    for statement in role_statements(t, role)? {
        // The other stack's resources, so names (text), never `!GetAtt`s of this one.
        let resources = list(&statement["Resource"])
            .into_iter()
            .map(|r| text(r).ok_or(format!("edge role: resource {r} is not an ARN of the system")))
            .collect::<Result<Vec<_>, _>>()?;
        for action in list(&statement["Action"]).into_iter().filter_map(Value::as_str) {
            seen.insert(action);
            if logs.contains(action) {
                let function = text(&edge_function(system)?.1["Properties"]["FunctionName"]).unwrap_or("?");
                let group = format!(
                    "arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:/aws/lambda/us-east-1.{function}"
                );
                let stream = format!("{group}:log-stream:*");
                ensure(resources.iter().all(|r| *r == group || *r == stream), || {
                    format!("edge role: {action} beyond the function's own log group: {resources:?}")
                })?;
                continue;
            }
            let Some((_, allowed, via)) = expected.iter().find(|(a, _, _)| *a == action) else {
                return Err(format!("edge role: action {action} is not one the chain needs"));
            };
            ensure(resources.iter().all(|r| allowed.iter().any(|a| a == r)), || {
                format!("edge role: {action} on {resources:?}, expected {allowed:?}")
            })?;
            ensure(!via || called_via_object_lambda(statement), || {
                format!("edge role: {action} without aws:CalledVia s3-object-lambda.amazonaws.com")
            })?;
        }
    }
    ensure(seen.contains("s3-object-lambda:GetObject"), || {
        "edge role: no s3-object-lambda:GetObject".into()
    })
}

/// The edge function itself: the package of scripts/package, Node.js on x86_64, no environment, a
/// published version (AutoPublishAlias) exported to SSM.
fn check_edge_function(system: &System) -> Check {
    let (name, function, _) = edge_function(system)?;
    let p = &function["Properties"];
    ensure(
        p["Runtime"].as_str().is_some_and(|r| r.starts_with("nodejs")),
        || "edge: runtime is not Node.js".into(),
    )?;
    ensure(p["Handler"] == "index.handler", || {
        "edge: handler is not index.handler".into()
    })?;
    ensure(list(&p["Architectures"]) == [&json!("x86_64")], || {
        "edge: not x86_64 only".into()
    })?;
    ensure(p.get("Environment").is_none(), || {
        "edge: Lambda@Edge takes no environment variables".into()
    })?;
    ensure(p["AutoPublishAlias"].is_string(), || {
        "edge: no AutoPublishAlias, so no published version".into()
    })?;
    let version = version_parameter(system)?;
    ensure(
        version["Properties"]["Value"] == json!({ "Ref": format!("{name}.Version") }),
        || {
            format!(
                "edge: the version parameter is not !Ref {name}.Version: {}",
                version["Properties"]["Value"]
            )
        },
    )
}

/// The edge stack's SSM parameter that a Custom:: lookup in template.yaml reads under `property`.
fn lookup<'a>(system: &'a System, property: &str) -> Result<(&'a str, &'a Value), String> {
    let lookups: Vec<_> = resources(&system.main)
        .iter()
        .filter(|(_, r)| r["Type"].as_str().is_some_and(|t| t.starts_with("Custom::")))
        .filter(|(_, r)| r["Properties"].get(property).is_some())
        .collect();
    let [(name, custom)] = lookups.as_slice() else {
        return Err(format!(
            "template: expected one custom resource reading {property}"
        ));
    };
    ensure(custom["Properties"]["ParameterRegion"] == "us-east-1", || {
        format!("{name}: does not read from us-east-1")
    })?;
    let parameter_name = text(&custom["Properties"][property]).ok_or(format!("{name}: {property}"))?;
    let parameters: Vec<_> = of_type(&system.edge, "AWS::SSM::Parameter")
        .into_iter()
        .filter(|(_, p)| text(&p["Properties"]["Name"]) == Some(parameter_name))
        .collect();
    let [(_, parameter)] = parameters.as_slice() else {
        return Err(format!("{name}: edge.yaml has no parameter {parameter_name}"));
    };
    Ok((name.as_str(), parameter))
}

fn version_parameter(system: &System) -> Result<&Value, String> {
    lookup(system, "VersionArnParameter").map(|(_, parameter)| parameter)
}

/// `!GetAtt <lookup>.RoleArn`, provided the lookup reads the edge role's ARN.
fn edge_role_principal(system: &System) -> Result<Value, String> {
    let (_, _, role) = edge_function(system)?;
    let (custom, parameter) = lookup(system, "RoleArnParameter")?;
    ensure(
        get_att(&parameter["Properties"]["Value"]) == Some((role, "Arn")),
        || "the role parameter does not hold the edge role's ARN".into(),
    )?;
    Ok(json!({ "Fn::GetAtt": [custom, "RoleArn"] }))
}

/// The principals of every Allow statement of a resource policy are exactly the edge role, never `*`,
/// an account or another role; no wildcard action.
fn check_scoped_to_signer(system: &System, what: &str, document: &Value) -> Check {
    let signer = edge_role_principal(system)?;
    let allows: Vec<_> = statements(document)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    ensure(!allows.is_empty(), || format!("{what}: no Allow statement"))?;
    for statement in allows {
        let principal = &statement["Principal"];
        let aws = principal
            .as_object()
            .filter(|p| p.len() == 1)
            .and_then(|p| p.get("AWS"));
        let principals = aws.map(list).unwrap_or_default();
        ensure(principals == [&signer], || {
            format!("{what}: principal {principal} is not exactly the signer's role")
        })?;
        for action in list(&statement["Action"]) {
            ensure(action.as_str().is_some_and(|a| !a.contains('*')), || {
                format!("{what}: action {action}")
            })?;
        }
    }
    Ok(())
}

fn check_access_points(system: &System) -> Check {
    let t = &system.main;
    let (olap_name, olap) = the_one(t, "AWS::S3ObjectLambda::AccessPoint")?;
    let (ap_name, ap) = the_one(t, "AWS::S3::AccessPoint")?;
    let (bucket, _) = the_one(t, "AWS::S3::Bucket")?;

    // Supporting access point: on the bucket, no public access, read only via S3 Object Lambda.
    let p = &ap["Properties"];
    ensure(reference(&p["Bucket"]) == Some(bucket), || {
        "supporting access point: not on the bucket".into()
    })?;
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        ensure(p["PublicAccessBlockConfiguration"][flag] == json!(true), || {
            format!("supporting access point: {flag} is not true")
        })?;
    }
    check_scoped_to_signer(system, "supporting access point", &p["Policy"])?;
    for statement in statements(&p["Policy"]) {
        ensure(
            statement["Effect"] != "Allow" || called_via_object_lambda(statement),
            || "supporting access point: an Allow without aws:CalledVia s3-object-lambda".into(),
        )?;
    }
    // The bucket's own Allow statements: the signer only.
    let (_, bucket_policy) = the_one(t, "AWS::S3::BucketPolicy")?;
    check_scoped_to_signer(
        system,
        "bucket policy",
        &bucket_policy["Properties"]["PolicyDocument"],
    )?;

    // Object Lambda access point: on the supporting one, the transform on GetObject.
    let config = &olap["Properties"]["ObjectLambdaConfiguration"];
    ensure(
        get_att(&config["SupportingAccessPoint"]) == Some((ap_name, "Arn")),
        || "Object Lambda access point: not on the supporting access point".into(),
    )?;
    let (transform, _) = transform_function(system)?;
    let transformations = list(&config["TransformationConfigurations"]);
    let get_object = transformations.iter().any(|c| {
        let actions = &c["Actions"];
        // Either a list, or an !If whose both branches hold GetObject.
        let branches: Vec<&Value> = match actions.get("Fn::If").and_then(Value::as_array) {
            Some(arms) => arms.iter().skip(1).collect(),
            None => vec![actions],
        };
        branches.iter().all(|b| list(b).contains(&&json!("GetObject")))
            && get_att(&c["ContentTransformation"]["AwsLambda"]["FunctionArn"]) == Some((transform, "Arn"))
    });
    ensure(get_object, || {
        "Object Lambda access point: the transform does not run on every GetObject".into()
    })?;

    let policies: Vec<_> = of_type(t, "AWS::S3ObjectLambda::AccessPointPolicy")
        .into_iter()
        .filter(|(_, p)| reference(&p["Properties"]["ObjectLambdaAccessPoint"]) == Some(olap_name))
        .collect();
    let [(_, policy)] = policies.as_slice() else {
        return Err("Object Lambda access point: expected one policy".into());
    };
    check_scoped_to_signer(
        system,
        "Object Lambda access point policy",
        &policy["Properties"]["PolicyDocument"],
    )
}

/// The transform function of template.yaml and its role's logical name.
fn transform_function(system: &System) -> Result<(&str, &Value), String> {
    let functions: Vec<_> = of_type(&system.main, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, f)| f["Properties"]["CodeUri"] == "../dist/object-lambda-al2023.zip")
        .collect();
    match functions.as_slice() {
        [one] => Ok(*one),
        _ => Err("template: expected one function from ../dist/object-lambda-al2023.zip".into()),
    }
}

/// The transform: provided.al2023 on x86_64, a role with WriteGetObjectResponse on this system's Object
/// Lambda access point, logs, and no S3 permission of its own; every role of template.yaml least-privilege.
fn check_transform(system: &System) -> Check {
    let (_, function) = transform_function(system)?;
    let p = &function["Properties"];
    ensure(
        p["Runtime"] == "provided.al2023" && p["Handler"] == "bootstrap",
        || "transform: not a provided.al2023 bootstrap".into(),
    )?;
    ensure(list(&p["Architectures"]) == [&json!("x86_64")], || {
        "transform: not x86_64".into()
    })?;
    let role = get_att(&p["Role"])
        .map(|(r, _)| r)
        .ok_or("transform: Role is not !GetAtt <role>.Arn")?;
    let olap = names(system)?.object_lambda_access_point;
    let own = format!(
        "arn:${{AWS::Partition}}:s3-object-lambda:${{AWS::Region}}:${{AWS::AccountId}}:accesspoint/{olap}"
    );
    let mut writes = false;
    for statement in role_statements(&system.main, role)? {
        for action in list(&statement["Action"]).into_iter().filter_map(Value::as_str) {
            ensure(!action.starts_with("s3:"), || {
                format!("transform: S3 permission {action} of its own")
            })?;
            if action == "s3-object-lambda:WriteGetObjectResponse" {
                writes = true;
                ensure(
                    list(&statement["Resource"])
                        .into_iter()
                        .all(|r| text(r) == Some(own.as_str())),
                    || "transform: WriteGetObjectResponse beyond this system's access point".into(),
                )?;
            }
        }
    }
    ensure(writes, || {
        "transform: no s3-object-lambda:WriteGetObjectResponse".into()
    })?;
    for (name, _) in of_type(&system.main, "AWS::IAM::Role") {
        check_least_privilege(&system.main, name)?;
    }
    for (name, _) in of_type(&system.edge, "AWS::IAM::Role") {
        check_least_privilege(&system.edge, name)?;
    }
    Ok(())
}

/// CloudFront: the origin is the Object Lambda access point's domain over HTTPS only (TLS 1.2); viewers
/// on HTTPS; showExif in the cache key, compression on; only showExif reaches the origin (no viewer
/// header, so never Host); the signer's published version as the one origin-request trigger.
fn check_cloudfront(system: &System) -> Check {
    let t = &system.main;
    let (_, distribution) = the_one(t, "AWS::CloudFront::Distribution")?;
    let config = &distribution["Properties"]["DistributionConfig"];
    let (olap, _) = the_one(t, "AWS::S3ObjectLambda::AccessPoint")?;
    let origins = list(&config["Origins"]);
    ensure(!origins.is_empty(), || "cloudfront: no origin".into())?;
    for origin in &origins {
        let domain = text(&origin["DomainName"]).unwrap_or_default();
        ensure(
            domain
                == format!(
                    "${{{olap}}}-${{AWS::AccountId}}.s3-object-lambda.${{AWS::Region}}.${{AWS::URLSuffix}}"
                ),
            || format!("cloudfront: origin {domain} is not the Object Lambda access point's domain"),
        )?;
        let custom = &origin["CustomOriginConfig"];
        ensure(custom["OriginProtocolPolicy"] == "https-only", || {
            format!(
                "cloudfront: origin protocol {} is not https-only",
                custom["OriginProtocolPolicy"]
            )
        })?;
        ensure(list(&custom["OriginSSLProtocols"]) == [&json!("TLSv1.2")], || {
            "cloudfront: origin TLS other than TLSv1.2".into()
        })?;
    }

    let mut behaviors = vec![&config["DefaultCacheBehavior"]];
    behaviors.extend(list(&config["CacheBehaviors"]));
    for behavior in behaviors {
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
        let methods = list(&behavior["AllowedMethods"]);
        ensure(methods.iter().all(|m| *m == "GET" || *m == "HEAD"), || {
            "cloudfront: methods beyond GET and HEAD reach the signer".into()
        })?;

        let cache = &referenced(t, &behavior["CachePolicyId"], "cache policy")?["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"];
        let query = &cache["QueryStringsConfig"];
        ensure(
            query["QueryStringBehavior"] == "whitelist"
                && list(&query["QueryStrings"]).contains(&&json!("showExif")),
            || format!("cloudfront: showExif is not in the cache key: {query}"),
        )?;
        ensure(cache["EnableAcceptEncodingGzip"] == json!(true), || {
            "cloudfront: gzip not in the cache key".into()
        })?;

        let origin_request = &referenced(t, &behavior["OriginRequestPolicyId"], "origin request policy")?["OriginRequestPolicyConfig"];
        let headers = &origin_request["HeadersConfig"];
        let host = list(&headers["Headers"])
            .iter()
            .any(|h| h.as_str().is_some_and(|h| h.eq_ignore_ascii_case("host")));
        ensure(
            headers["HeaderBehavior"] == "none" || (headers["HeaderBehavior"] == "whitelist" && !host),
            || format!("cloudfront: the origin request policy may forward the viewer's Host: {headers}"),
        )?;
        let query = &origin_request["QueryStringsConfig"];
        ensure(
            query["QueryStringBehavior"] == "whitelist"
                && list(&query["QueryStrings"]) == [&json!("showExif")],
            || format!("cloudfront: the origin gets more than showExif: {query}"),
        )?;

        let associations = list(&behavior["LambdaFunctionAssociations"]);
        let [association] = associations.as_slice() else {
            return Err("cloudfront: expected exactly one Lambda@Edge association".into());
        };
        ensure(association["EventType"] == "origin-request", || {
            format!(
                "cloudfront: the signer runs on {}, not origin-request",
                association["EventType"]
            )
        })?;
        let (lookup_name, _) = lookup(system, "VersionArnParameter")?;
        ensure(
            get_att(&association["LambdaFunctionARN"]) == Some((lookup_name, "VersionArn")),
            || {
                format!(
                    "cloudfront: the association is not the published version read from SSM: {}",
                    association["LambdaFunctionARN"]
                )
            },
        )?;
        check_edge_function(system)?;
        // The lookup refuses anything but a numbered version (never $LATEST, never an alias).
        let code = lookup_code(system, lookup_name)?;
        ensure(code.contains(r#":function:[A-Za-z0-9_-]+:[0-9]+$")"#), || {
            "cloudfront: the lookup does not insist on a numbered version".into()
        })?;
    }
    Ok(())
}

/// The properties of the resource of this template that `!Ref X` names.
fn referenced<'a>(template: &'a Value, id: &Value, what: &str) -> Result<&'a Value, String> {
    let name = reference(id).ok_or(format!("cloudfront: the {what} is not one of this template"))?;
    let resource = resources(template)
        .get(name)
        .ok_or(format!("cloudfront: no {what} {name}"))?;
    Ok(&resource["Properties"])
}

fn lookup_code<'a>(system: &'a System, custom: &str) -> Result<&'a str, String> {
    let token = &resources(&system.main)[custom]["Properties"]["ServiceToken"];
    let function = named_resource(token).ok_or("lookup: ServiceToken is not a function of this template")?;
    resources(&system.main)[function]["Properties"]["Code"]["ZipFile"]
        .as_str()
        .ok_or("lookup: no inline code".into())
}

fn check_all(system: &System) -> Check {
    check_bucket(system)?;
    check_access_points(system)?;
    check_edge_role(system)?;
    check_edge_function(system)?;
    check_transform(system)?;
    check_cloudfront(system)?;
    upload::check_upload(system)
}

// deploy/upload.yaml: its checks, and their tests.
#[path = "deploy_template/upload.rs"]
mod upload;

// ---- The templates as shipped ----

#[test]
fn short_form_tags_parse_as_cloudformation_reads_them() {
    let parsed =
        parse("A: !Ref X\nB: !GetAtt R.Arn\nC: !Sub 'x-${AWS::Region}'\nD: !If [C, [1], [2]]\n").unwrap();
    assert_eq!(
        parsed,
        json!({
            "A": { "Ref": "X" },
            "B": { "Fn::GetAtt": ["R", "Arn"] },
            "C": { "Fn::Sub": "x-${AWS::Region}" },
            "D": { "Fn::If": ["C", [1], [2]] },
        })
    );
    assert!(parse("B: !GetAtt NoAttribute\n").is_err());
}

#[test]
fn the_bucket_is_private_encrypted_and_tls_only() {
    check_bucket(&read_system()).unwrap();
}

#[test]
fn the_access_points_are_scoped_to_the_signers_role() {
    check_access_points(&read_system()).unwrap();
}

#[test]
fn the_edge_role_is_trusted_by_lambda_and_edgelambda_and_holds_only_what_the_chain_needs() {
    check_edge_role(&read_system()).unwrap();
}

#[test]
fn the_edge_function_is_the_nodejs_package_published_as_a_version() {
    check_edge_function(&read_system()).unwrap();
}

#[test]
fn the_transform_writes_its_response_and_reads_nothing_itself() {
    check_transform(&read_system()).unwrap();
}

#[test]
fn cloudfront_signs_origin_requests_over_https_with_showexif_in_the_cache_key() {
    check_cloudfront(&read_system()).unwrap();
}

// ---- The lookup's inline code, run: what it answers CloudFormation ----

const STUB_BOTO3: &str = r#"
import json, os
PARAMETERS = json.loads(os.environ["STUB_PARAMETERS"])
class _Ssm:
    def __init__(self, region):
        self.region = region
    def get_parameter(self, Name):
        if self.region != "us-east-1":
            raise RuntimeError("read from " + str(self.region))
        if Name not in PARAMETERS:
            raise RuntimeError("ParameterNotFound: " + Name)
        return {"Parameter": {"Name": Name, "Value": PARAMETERS[Name]}}
def client(service, region_name=None):
    assert service == "ssm", service
    return _Ssm(region_name)
"#;

/// Runs the custom resource's inline Python on one CloudFormation request, with boto3 replaced by an
/// SSM holding `parameters`, and returns the JSON it PUT to the request's ResponseURL (a local server).
fn run_lookup(request_type: &str, parameters: Value, physical: Option<&str>) -> Value {
    let system = read_system();
    let (custom, lookup) = lookup(&system, "VersionArnParameter").unwrap();
    let code = lookup_code(&system, custom).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.py"), code).unwrap();
    std::fs::write(dir.path().join("boto3.py"), STUB_BOTO3).unwrap();

    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let receiver = std::thread::spawn(move || {
        let mut request = server.recv().unwrap();
        let mut body = String::new();
        std::io::Read::read_to_string(request.as_reader(), &mut body).unwrap();
        let method = request.method().to_string();
        request.respond(tiny_http::Response::empty(200)).unwrap();
        (method, body)
    });

    let properties = &resources(&system.main)[custom]["Properties"];
    let mut event = json!({
        "RequestType": request_type,
        "ResponseURL": format!("http://127.0.0.1:{port}/response"),
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/edge-signer/1",
        "RequestId": "request-1",
        "LogicalResourceId": custom,
        "ResourceType": lookup["Type"],
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:edge-signer-edge-lookup",
            "ParameterRegion": properties["ParameterRegion"],
            "VersionArnParameter": "/edge-signer/edge/version-arn",
            "RoleArnParameter": "/edge-signer/edge/role-arn",
            "Revision": "1",
        },
    });
    if let Some(physical) = physical {
        event["PhysicalResourceId"] = json!(physical);
    }
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, index; index.handler(json.load(sys.stdin), None)",
        ])
        .current_dir(dir.path())
        .env("STUB_PARAMETERS", parameters.to_string())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), event.to_string().as_bytes()).unwrap();
    assert!(
        child.wait().unwrap().success(),
        "the lookup raised instead of answering"
    );
    let (method, body) = receiver.join().unwrap();
    assert_eq!(method, "PUT");
    let answer: Value = serde_json::from_str(&body).unwrap();
    for echoed in ["StackId", "RequestId", "LogicalResourceId"] {
        assert_eq!(answer[echoed], event[echoed], "{echoed}");
    }
    answer
}

fn python3_available() -> bool {
    let status = std::process::Command::new("python3").arg("--version").output();
    let available = status.is_ok_and(|o| o.status.success());
    // CI installs python3 (.ci/run); there a missing interpreter is a failure, not a skip.
    assert!(
        available || std::env::var_os("CI").is_none(),
        "python3 is required under CI=true (the custom resource's Python is run by this test)"
    );
    if !available {
        eprintln!("skipped: python3 is not installed (outside CI only)");
    }
    available
}

#[test]
fn the_lookup_answers_cloudformation_with_the_version_and_role_from_ssm() {
    if !python3_available() {
        return;
    }
    let version = "arn:aws:lambda:us-east-1:111122223333:function:edge-signer-edge:7";
    let role = "arn:aws:iam::111122223333:role/edge-signer-edge-EdgeRole-ABC123";
    let ssm = json!({ "/edge-signer/edge/version-arn": version, "/edge-signer/edge/role-arn": role });
    let answer = run_lookup("Create", ssm.clone(), None);
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["PhysicalResourceId"], version);
    assert_eq!(answer["Data"], json!({ "VersionArn": version, "RoleArn": role }));
    // Deleting the lookup deletes nothing; it answers at once, keeping its id.
    let answer = run_lookup("Delete", json!({}), Some(version));
    assert_eq!(
        (&answer["Status"], &answer["PhysicalResourceId"]),
        (&json!("SUCCESS"), &json!(version))
    );
}

#[test]
fn the_lookup_refuses_latest_an_alias_or_a_missing_parameter_and_says_why() {
    if !python3_available() {
        return;
    }
    let role = "arn:aws:iam::111122223333:role/edge-signer-edge-EdgeRole-ABC123";
    for (version, reason) in [
        (
            "arn:aws:lambda:us-east-1:111122223333:function:edge-signer-edge:$LATEST",
            "not a numbered",
        ),
        (
            "arn:aws:lambda:us-east-1:111122223333:function:edge-signer-edge:live",
            "not a numbered",
        ),
        (
            "arn:aws:lambda:us-east-1:111122223333:function:edge-signer-edge",
            "not a numbered",
        ),
        (
            "arn:aws:lambda:eu-west-1:111122223333:function:edge-signer-edge:7",
            "not a numbered",
        ),
    ] {
        let ssm = json!({ "/edge-signer/edge/version-arn": version, "/edge-signer/edge/role-arn": role });
        let answer = run_lookup(
            "Update",
            ssm,
            Some("arn:aws:lambda:us-east-1:111122223333:function:x:6"),
        );
        assert_eq!(answer["Status"], "FAILED", "{version}: {answer}");
        assert!(
            answer["Reason"].as_str().unwrap().contains(reason),
            "{version}: {answer}"
        );
        assert_eq!(
            answer["PhysicalResourceId"],
            "arn:aws:lambda:us-east-1:111122223333:function:x:6"
        );
    }
    let answer = run_lookup("Create", json!({ "/edge-signer/edge/role-arn": role }), None);
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"].as_str().unwrap().contains("ParameterNotFound"),
        "{answer}"
    );
    let version = "arn:aws:lambda:us-east-1:111122223333:function:edge-signer-edge:7";
    let ssm = json!({ "/edge-signer/edge/version-arn": version, "/edge-signer/edge/role-arn": "*" });
    let answer = run_lookup("Create", ssm, None);
    assert!(
        answer["Reason"].as_str().unwrap().contains("not a role ARN"),
        "{answer}"
    );
}

// ---- The checks bite: each mutation of the shipped templates is rejected ----

fn rejected(mutate: impl FnOnce(&mut System), expected: &str) {
    let mut system = read_system();
    mutate(&mut system);
    match check_all(&system) {
        Ok(()) => panic!("a mutation that should fail ({expected}) passed every check"),
        Err(message) => assert!(
            message.contains(expected),
            "expected an error containing {expected:?}, got {message:?}"
        ),
    }
}

fn edge_role_statements(system: &mut System) -> &mut Vec<Value> {
    let role = edge_function(system).unwrap().2.to_owned();
    system.edge["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
}

fn resource_mut<'a>(template: &'a mut Value, kind: &str) -> &'a mut Value {
    let name = the_one(template, kind).unwrap().0.to_owned();
    &mut template["Resources"][name]["Properties"]
}

#[test]
fn the_shipped_templates_pass_every_check() {
    check_all(&read_system()).unwrap();
}

#[test]
fn a_wildcard_on_the_edge_role_is_rejected() {
    rejected(
        |s| edge_role_statements(s)[0]["Action"] = json!("s3-object-lambda:*"),
        "wildcard action",
    );
    rejected(
        |s| edge_role_statements(s)[0]["Action"] = json!("*"),
        "wildcard action",
    );
    rejected(
        |s| edge_role_statements(s)[0]["Resource"] = json!("*"),
        "resource *",
    );
    rejected(
        |s| {
            edge_role_statements(s)[1]["Resource"] =
                json!({ "Fn::Sub": "arn:${AWS::Partition}:s3:*:*:accesspoint/*" })
        },
        "not in this account",
    );
    rejected(
        |s| edge_role_statements(s).push(json!({ "Effect": "Allow", "NotAction": "iam:*", "Resource": "*" })),
        "NotAction",
    );
}

#[test]
fn a_wildcard_in_the_yaml_text_is_rejected_too() {
    // Through the whole pipeline: YAML text with short-form tags -> checks.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let text = std::fs::read_to_string(dir.join("edge.yaml")).unwrap();
    let mutated = text.replacen("Action: s3:GetObject", "Action: s3:Get*", 1);
    assert_ne!(text, mutated);
    let system = System {
        edge: parse(&mutated).unwrap(),
        ..read_system()
    };
    assert!(
        check_edge_role(&system)
            .unwrap_err()
            .contains("wildcard action s3:Get*")
    );
}

#[test]
fn more_than_the_chain_needs_on_the_edge_role_is_rejected() {
    rejected(
        |s| {
            edge_role_statements(s)[0]["Action"] =
                json!(["s3-object-lambda:GetObject", "s3-object-lambda:PutObject"])
        },
        "is not one the chain needs",
    );
    rejected(
        |s| edge_role_statements(s)[1]["Condition"] = Value::Null,
        "without aws:CalledVia",
    );
    rejected(
        |s| edge_role_statements(s)[0]["Resource"] = json!({ "Fn::GetAtt": ["EdgeRole", "Arn"] }),
        "is not an ARN of the system",
    );
    rejected(
        |s| edge_role_statements(s)[2]["Resource"] = json!({ "Fn::Sub": "arn:${AWS::Partition}:lambda:${StorageRegion}:${AWS::AccountId}:function:other" }),
        "lambda:InvokeFunction on",
    );
}

#[test]
fn an_edge_role_trusted_by_anything_else_is_rejected() {
    fn trust(s: &mut System) -> &mut Value {
        let role = edge_function(s).unwrap().2.to_owned();
        &mut s.edge["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    }
    rejected(
        |s| trust(s)["Service"] = json!("lambda.amazonaws.com"),
        "trust is not exactly",
    );
    rejected(
        |s| {
            trust(s)["Service"] = json!([
                "lambda.amazonaws.com",
                "edgelambda.amazonaws.com",
                "ec2.amazonaws.com"
            ])
        },
        "trust is not exactly",
    );
    rejected(|s| trust(s)["AWS"] = json!("*"), "trust is not exactly");
}

#[test]
fn a_public_or_unencrypted_or_plain_http_bucket_is_rejected() {
    rejected(
        |s| {
            resource_mut(&mut s.main, "AWS::S3::Bucket")["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] =
                json!(false)
        },
        "RestrictPublicBuckets",
    );
    rejected(
        |s| {
            resource_mut(&mut s.main, "AWS::S3::Bucket")
                .as_object_mut()
                .unwrap()
                .remove("BucketEncryption")
                .map(drop)
                .unwrap()
        },
        "BucketEncryption",
    );
    rejected(
        |s| resource_mut(&mut s.main, "AWS::S3::Bucket")["AccessControl"] = json!("PublicRead"),
        "AccessControl",
    );
    rejected(
        |s| {
            resource_mut(&mut s.main, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"][0]["Condition"]
                ["Bool"]["aws:SecureTransport"] = json!("true")
        },
        "aws:SecureTransport",
    );
    rejected(
        |s| {
            resource_mut(&mut s.main, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"][1]["Principal"] =
                json!("*")
        },
        "public Allow",
    );
}

#[test]
fn an_access_point_policy_open_beyond_the_signer_is_rejected() {
    fn olap(s: &mut System) -> &mut Value {
        &mut resource_mut(&mut s.main, "AWS::S3ObjectLambda::AccessPointPolicy")["PolicyDocument"]["Statement"]
            [0]
    }
    rejected(
        |s| olap(s)["Principal"] = json!("*"),
        "is not exactly the signer's role",
    );
    rejected(
        |s| {
            olap(s)["Principal"] =
                json!({ "AWS": { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" } })
        },
        "is not exactly the signer's role",
    );
    rejected(
        |s| {
            olap(s)["Principal"]["AWS"] = json!([{ "Fn::GetAtt": ["EdgeSigner", "RoleArn"] }, { "Fn::GetAtt": ["TransformRole", "Arn"] }])
        },
        "is not exactly the signer's role",
    );
    rejected(|s| olap(s)["Action"] = json!("s3-object-lambda:*"), "action");
    fn ap(s: &mut System) -> &mut Value {
        &mut resource_mut(&mut s.main, "AWS::S3::AccessPoint")["Policy"]["Statement"][0]
    }
    rejected(
        |s| ap(s)["Principal"] = json!({ "AWS": "*" }),
        "is not exactly the signer's role",
    );
    rejected(
        |s| {
            ap(s)
                .as_object_mut()
                .unwrap()
                .remove("Condition")
                .map(drop)
                .unwrap()
        },
        "without aws:CalledVia",
    );
    rejected(
        |s| {
            resource_mut(&mut s.main, "AWS::S3::AccessPoint")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] =
                json!(false)
        },
        "BlockPublicPolicy",
    );
    // The role the lookup returns must be the edge role.
    rejected(
        |s| {
            for (_, parameter) in s.edge["Resources"].as_object_mut().unwrap() {
                if parameter["Properties"]["Name"] == json!({ "Fn::Sub": "/${SystemName}/edge/role-arn" }) {
                    parameter["Properties"]["Value"] = json!({ "Fn::GetAtt": ["SomeOtherRole", "Arn"] });
                }
            }
        },
        "does not hold the edge role's ARN",
    );
}

#[test]
fn a_transform_with_more_than_its_response_is_rejected() {
    fn statements(s: &mut System) -> &mut Vec<Value> {
        s.main["Resources"]["TransformRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap()
    }
    rejected(
        |s| statements(s)[0]["Resource"] = json!("*"),
        "beyond this system's access point",
    );
    rejected(|s| statements(s)[1]["Resource"] = json!("*"), "resource *");
    rejected(
        |s| {
            statements(s).push(json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": { "Fn::Sub": "${ImageBucket.Arn}/*" } }))
        },
        "S3 permission",
    );
    rejected(
        |s| s.main["Resources"]["TransformFunction"]["Properties"]["Runtime"] = json!("nodejs22.x"),
        "provided.al2023",
    );
}

#[test]
fn cloudfront_over_http_or_without_showexif_or_with_host_or_latest_is_rejected() {
    fn config(s: &mut System) -> &mut Value {
        &mut resource_mut(&mut s.main, "AWS::CloudFront::Distribution")["DistributionConfig"]
    }
    rejected(
        |s| config(s)["Origins"][0]["CustomOriginConfig"]["OriginProtocolPolicy"] = json!("match-viewer"),
        "is not https-only",
    );
    rejected(
        |s| config(s)["Origins"][0]["CustomOriginConfig"]["OriginSSLProtocols"] = json!(["TLSv1", "TLSv1.2"]),
        "TLSv1.2",
    );
    rejected(
        |s| {
            config(s)["Origins"][0]["DomainName"] =
                json!({ "Fn::GetAtt": ["ImageBucket", "RegionalDomainName"] })
        },
        "is not the Object Lambda access point's domain",
    );
    rejected(
        |s| config(s)["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = json!("allow-all"),
        "plain HTTP",
    );
    rejected(
        |s| config(s)["DefaultCacheBehavior"]["Compress"] = json!(false),
        "compression off",
    );
    rejected(
        |s| {
            config(s)["DefaultCacheBehavior"]["LambdaFunctionAssociations"][0]["EventType"] =
                json!("viewer-request")
        },
        "not origin-request",
    );
    rejected(
        |s| config(s)["DefaultCacheBehavior"]["LambdaFunctionAssociations"][0]["LambdaFunctionARN"] = json!({ "Fn::Sub": "arn:${AWS::Partition}:lambda:us-east-1:${AWS::AccountId}:function:edge-signer-edge:$LATEST" }),
        "not the published version",
    );
    rejected(
        |s| {
            let name = edge_function(s).unwrap().0.to_owned();
            for (_, parameter) in s.edge["Resources"].as_object_mut().unwrap() {
                if parameter["Properties"]["Value"] == json!({ "Ref": format!("{name}.Version") }) {
                    parameter["Properties"]["Value"] = json!({ "Fn::GetAtt": [name, "Arn"] });
                }
            }
        },
        "is not !Ref",
    );
    rejected(
        |s| {
            s.edge["Resources"]["EdgeFunction"]["Properties"]
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
            s.edge["Resources"]["EdgeFunction"]["Properties"]["Environment"] =
                json!({ "Variables": { "A": "b" } })
        },
        "environment",
    );
    rejected(
        |s| s.edge["Resources"]["EdgeFunction"]["Properties"]["Architectures"] = json!(["arm64"]),
        "x86_64",
    );
    fn cache(s: &mut System) -> &mut Value {
        &mut resource_mut(&mut s.main, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    }
    rejected(
        |s| cache(s)["QueryStringsConfig"] = json!({ "QueryStringBehavior": "none" }),
        "showExif is not in the cache key",
    );
    rejected(|s| cache(s)["EnableAcceptEncodingGzip"] = json!(false), "gzip");
    fn origin_request(s: &mut System) -> &mut Value {
        &mut resource_mut(&mut s.main, "AWS::CloudFront::OriginRequestPolicy")["OriginRequestPolicyConfig"]
    }
    rejected(
        |s| origin_request(s)["HeadersConfig"] = json!({ "HeaderBehavior": "allViewer" }),
        "Host",
    );
    rejected(
        |s| {
            origin_request(s)["HeadersConfig"] = json!({ "HeaderBehavior": "whitelist", "Headers": ["Host"] })
        },
        "Host",
    );
    rejected(
        |s| origin_request(s)["QueryStringsConfig"] = json!({ "QueryStringBehavior": "all" }),
        "more than showExif",
    );
}
