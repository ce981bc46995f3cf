//! The error vocabulary: every `code` the API can answer, with the status it comes with, where
//! it appears in a problem and what it means.
//!
//! This catalogue is the one list. Its tests read `src/**/*.rs` and fail when the source uses a
//! code the catalogue lacks (each missing code printed with its `file:line`), when the
//! catalogue keeps a code the source no longer uses, or when the README's "Error codes"
//! section differs from [`markdown`]. After changing the catalogue, regenerate that section
//! with `UPDATE_SNAPSHOTS=1 cargo nextest run --lib error::codes`.

use std::fmt::Write as _;

/// Where a code appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The problem's top-level `code`.
    Problem,
    /// A field error's `errors[].code`.
    Field,
    /// A blocking submission finding: an `errors[]` entry of `submission_blocked` (and in its
    /// `extra.blocking`).
    Blocking,
    /// A reviewer's warning from the submission checks (`extra.warnings` of
    /// `submission_blocked`, the review dossier); it never fails a request.
    Warning,
}

impl Place {
    fn label(self) -> &'static str {
        match self {
            Self::Problem => "`code`",
            Self::Field => "`errors[]`",
            Self::Blocking => "finding",
            Self::Warning => "warning",
        }
    }
}

/// The HTTP status a code comes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Is(u16),
    /// Any client error without a code of its own (the framework's fallback).
    OtherClientError,
    /// Any server error.
    ServerError,
}

impl Status {
    /// Whether an answer with `status` is described by this one.
    pub fn covers(self, status: u16) -> bool {
        match self {
            Self::Is(s) => s == status,
            Self::OtherClientError => (400..500).contains(&status),
            Self::ServerError => (500..600).contains(&status),
        }
    }

    fn label(self) -> String {
        match self {
            Self::Is(s) => s.to_string(),
            Self::OtherClientError => "4xx".to_owned(),
            Self::ServerError => "5xx".to_owned(),
        }
    }
}

/// One code of the vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode {
    pub code: &'static str,
    /// The statuses of the problems it appears in (none for a warning).
    pub statuses: &'static [Status],
    pub places: &'static [Place],
    pub en: &'static str,
    pub zh: &'static str,
}

/// The codes of one area of the API.
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub title: &'static str,
    pub codes: &'static [ErrorCode],
}

const fn code(
    code: &'static str,
    statuses: &'static [Status],
    places: &'static [Place],
    en: &'static str,
    zh: &'static str,
) -> ErrorCode {
    ErrorCode {
        code,
        statuses,
        places,
        en,
        zh,
    }
}

const S400: &[Status] = &[Status::Is(400)];
const S401: &[Status] = &[Status::Is(401)];
const S409: &[Status] = &[Status::Is(409)];
const S422: &[Status] = &[Status::Is(422)];
const NONE: &[Status] = &[];

/// Only the top-level `code`.
const P: &[Place] = &[Place::Problem];
/// Only in `errors[]`.
const F: &[Place] = &[Place::Field];
/// In `errors[]`, and the top-level `code` of a 422 whose first field error it is
/// ([`super::ApiError::validation`]).
const PF: &[Place] = &[Place::Problem, Place::Field];
const B: &[Place] = &[Place::Blocking];
const W: &[Place] = &[Place::Warning];

/// Every code, by area (one line per code: a table reads better than rustfmt's layout).
#[rustfmt::skip]
pub const GROUPS: &[Group] = &[
    Group {
        title: "Requests and the protocol",
        codes: &[
            code("bad_request", S400, P, "The framework refused a malformed request (no more specific cause).", "请求格式错误。"),
            code("malformed_json", S400, P, "The body is not valid JSON; `detail` gives line and column.", "请求体不是合法的 JSON。"),
            code("body_read_failed", S400, P, "The request body could not be read.", "读取请求体失败。"),
            code("invalid_query", S400, P, "A query parameter is malformed; `errors[]` names it.", "查询参数格式错误。"),
            code("invalid_path", S400, P, "A path parameter is malformed; `errors[]` names it.", "路径参数格式错误。"),
            code("malformed_multipart", S400, P, "The multipart form is malformed.", "上传的表单格式错误。"),
            code("form_field_too_large", S400, P, "A multipart form field is too long.", "表单字段过长。"),
            code("invalid_utf8", S400, P, "A multipart form field is not UTF-8 text.", "表单字段须为 UTF-8 文本。"),
            code("not_found", &[Status::Is(404)], P, "No such route, or no such resource (or one the caller may not see).", "地址或记录不存在。"),
            code("method_not_allowed", &[Status::Is(405)], P, "The path does not accept this method; `Allow` lists those it does.", "该地址不支持此请求方法。"),
            code("request_timeout", &[Status::Is(408)], P, "The request was not received in time.", "请求超时。"),
            code("payload_too_large", &[Status::Is(413)], P, "The body is larger than allowed.", "请求体超过大小上限。"),
            code("uri_too_long", &[Status::Is(414)], P, "The request target is too long.", "请求地址过长。"),
            code("unsupported_media_type", &[Status::Is(415)], P, "Wrong `Content-Type` (JSON or multipart/form-data expected).", "不支持的内容类型。"),
            code("headers_too_large", &[Status::Is(431)], P, "The request headers are too large.", "请求头过大。"),
            code("invalid_body", S422, P, "The JSON body has the wrong shape; `errors[]` names the field.", "请求体的结构或字段类型不正确。"),
            code("unknown_field", S422, F, "A field the endpoint does not accept.", "不允许的字段。"),
            code("missing_field", S422, PF, "A required field (or form part) is missing.", "缺少必填字段。"),
            code("invalid_type", S422, F, "A field has the wrong JSON type.", "字段类型错误。"),
            code("invalid_value", &[Status::Is(400), Status::Is(422)], PF, "A value outside the accepted set or not parsable.", "取值无效。"),
            code("already_exists", S409, P, "A record with the same unique value already exists.", "记录已存在。"),
            code("status_changed", S409, P, "The application or exit case changed meanwhile; reload and retry.", "状态已被他人更改，请刷新后重试。"),
            code("request_failed", &[Status::OtherClientError], P, "Any other client error the framework answers.", "请求失败。"),
            code("internal_error", &[Status::ServerError], P, "Internal error; give the `request_id` to an administrator.", "服务器内部错误。"),
        ],
    },
    Group {
        title: "Field rules shared by many endpoints",
        codes: &[
            code("validation_failed", S422, P, "Validation failed without a field error to name (fallback).", "请求内容未通过校验。"),
            code("control_character", S422, PF, "A text holds NUL or another control character (tab, LF and CR only in multi-line text); nothing was done.", "文本含有控制字符（如 NUL），未做任何处理。"),
            code("required", S422, PF, "A required value is empty or missing.", "必填。"),
            code("too_long", S422, PF, "A text is longer than allowed.", "内容过长。"),
            code("too_many", S422, PF, "A list has more entries than allowed.", "条目过多。"),
            code("duplicate", S422, PF, "A list names the same value twice.", "重复。"),
            code("in_future", S422, PF, "A date lies after today.", "日期不能晚于今天。"),
            code("invalid_length", S422, PF, "A text or list is shorter or longer than its limits.", "长度不符合要求。"),
            code("out_of_range", S422, PF, "A number is outside its range.", "取值超出范围。"),
            code("invalid_email", S422, PF, "Not a valid e-mail address.", "邮箱地址格式不正确。"),
            code("invalid_mobile", S422, PF, "Not an 11-digit mainland mobile number.", "手机号码格式不正确。"),
            code("invalid_date", S422, PF, "Not a real `YYYY-MM-DD` date.", "日期无效。"),
            code("year_out_of_range", S422, PF, "A year outside the accepted years.", "年份超出允许范围。"),
        ],
    },
    Group {
        title: "Authentication and access",
        codes: &[
            code("unauthenticated", S401, P, "No bearer token: sign in first.", "请先登录。"),
            code("invalid_token", S401, P, "The token is not valid (or its account no longer exists).", "令牌无效。"),
            code("token_expired", S401, P, "The token has expired; sign in again.", "登录已过期。"),
            code("unknown_signing_key", S401, P, "The token names a retired or unknown signing key; sign in again.", "令牌的签名密钥已停用或未知。"),
            code("account_disabled", S401, P, "The account has been disabled.", "该账号已被停用。"),
            code("invalid_credentials", S401, P, "Wrong e-mail or password.", "邮箱或密码错误。"),
            code("metrics_token_required", S401, P, "`/metrics` needs the operator token.", "指标接口须提供运维令牌。"),
            code("forbidden", &[Status::Is(403)], P, "The caller's role may not do this.", "当前角色无权执行此操作。"),
            code("too_many_requests", &[Status::Is(429)], P, "Too many failed sign-ins; `Retry-After` says when to retry.", "登录尝试过于频繁。"),
            code("rate_limited", &[Status::Is(429)], P, "Too many objections from this address; `Retry-After` says when.", "异议提交过于频繁。"),
        ],
    },
    Group {
        title: "Accounts, schools and administration",
        codes: &[
            code("password_too_short", S422, PF, "The password is shorter than 12 characters.", "密码少于 12 个字符。"),
            code("password_too_common", S422, PF, "The password is among the commonest leaked passwords.", "密码属于最常见的泄露密码。"),
            code("password_too_long", S422, PF, "The password is longer than allowed.", "密码过长。"),
            code("entity_type_mismatch", S422, &[Place::Problem, Place::Field, Place::Blocking], "The credit code's prefix does not fit the entity type.", "统一社会信用代码与机构类型不符。"),
            code("uscc_taken", S409, P, "An account for this credit code already exists.", "该统一社会信用代码已注册。"),
            code("email_taken", S409, P, "An account with this e-mail already exists.", "该邮箱已注册。"),
            code("role_not_allowed", S422, PF, "Institution accounts come only from self-registration.", "机构账号只能自行注册。"),
            code("school_required", S422, PF, "A school account needs its `school_id`.", "学校账号须指定学校。"),
            code("school_not_allowed", S422, PF, "Only school accounts belong to a school.", "只有学校账号隶属学校。"),
            code("unknown_school", S422, PF, "No such school.", "学校不存在。"),
            code("school_code_taken", S409, P, "A school with this code already exists.", "该学校代码已存在。"),
            code("cannot_disable_self", S409, P, "An admin cannot disable their own account.", "不能停用自己的账号。"),
            code("job_not_dead", S409, P, "Only dead jobs can be retried.", "只有失败终止的任务可以重试。"),
        ],
    },
    Group {
        title: "Identifiers: credit codes, identity documents, teacher credentials",
        codes: &[
            code("invalid_uscc", S422, &[Place::Problem, Place::Field, Place::Blocking], "The unified social credit code is invalid; `errors[]` give the reasons.", "统一社会信用代码无效。"),
            code("invalid_id_number", S422, P, "An identity document number is invalid; `errors[]` give the reasons.", "证件号码无效。"),
            code("empty", S422, F, "The identifier is empty.", "号码为空。"),
            code("bad_length", S422, PF, "The identifier has the wrong number of characters.", "号码位数错误。"),
            code("bad_charset", S422, PF, "Characters not allowed at the positions named.", "号码含有不允许的字符。"),
            code("bad_region_code", S422, F, "The region code is not a valid division code.", "行政区划码无效。"),
            code("bad_check_character", S422, F, "The check character does not match (a typo).", "校验码错误。"),
            code("unknown_registration_authority", S422, F, "Position 1 of the credit code is no registration authority.", "登记管理部门代码不存在。"),
            code("unknown_entity_category", S422, F, "Position 2 is no category of that authority.", "机构类别代码不属于该登记管理部门。"),
            code("first_generation_id", S422, F, "A 15-digit first-generation ID card (expired 2013).", "第一代身份证已停止使用。"),
            code("bad_birth_date", S422, F, "The birth date in the ID number is not a real date.", "出生日期无效。"),
            code("birth_date_in_future", S422, F, "The birth date in the ID number lies in the future.", "出生日期晚于今天。"),
            code("bad_format", S422, F, "The number does not have its document kind's format.", "号码格式不符合证件类型。"),
            code("bad_year", S422, PF, "A teacher certificate number's year is out of range.", "教师资格证书编号的认定年度无效。"),
            code("bad_province_code", S422, PF, "A teacher certificate number's province code is invalid.", "教师资格证书编号的省级代码无效。"),
            code("bad_qualification_type", S422, PF, "A teacher certificate number's qualification type is not 1–7.", "教师资格证书编号的资格种类无效。"),
            code("bad_level", S422, PF, "Unknown credential level.", "证书等级无效。"),
            code("not_after_issued_on", S422, PF, "The expiry date is not after the date of issue.", "有效期截止日期应晚于发证日期。"),
            code("credential_expired", S422, B, "A teacher's credential has expired.", "教师证书已过期。"),
            code("sports_instructor_level_too_low", S422, B, "A social sports instructor below level 2.", "社会体育指导员低于二级。"),
        ],
    },
    Group {
        title: "Institutions: profile, roster, inspections",
        codes: &[
            code("registration_kind_mismatch", S422, PF, "The registration certificate's kind does not fit the entity type.", "登记证书类型与机构类型不符。"),
            code("authority_level_too_low", S422, PF, "The registration authority is below county level.", "登记机关须为县级及以上。"),
            code("invalid_document", S422, PF, "The supporting document is not one of yours of kind `inspection_record`.", "证明材料须为本机构的年检记录。"),
            code("inspection_year_exists", S409, P, "An inspection record for that year already exists.", "该年度年检记录已存在。"),
        ],
    },
    Group {
        title: "Catalogue and working-day calendar",
        codes: &[
            code("academic_subject_forbidden", S422, &[Place::Problem, Place::Field, Place::Blocking], "An academic subject: only non-academic activities are admitted.", "学科类项目不予受理。"),
            code("unknown_category", S422, &[Place::Problem, Place::Field, Place::Blocking], "Not an activity or category of the catalogue.", "不在活动目录中。"),
            code("calendar_year_missing", S422, P, "The calendar of a needed year is not loaded.", "尚未载入该年度节假日安排。"),
            code("count_out_of_range", S422, P, "The working-day count is outside its range.", "工作日天数超出范围。"),
            code("calendar_changed", S409, P, "The calendar changed meanwhile; reload and retry.", "日历已被他人修改。"),
            code("year_mismatch", S422, PF, "The body's year differs from the path's.", "年份与路径不一致。"),
            code("empty_source", S422, PF, "The calendar's source is empty.", "来源不能为空。"),
            code("empty_name", S422, PF, "A holiday or make-up day has no name.", "名称不能为空。"),
            code("no_holidays", S422, PF, "The calendar lists no holidays.", "节假日列表为空。"),
            code("date_outside_year", S422, PF, "A date is not in the calendar's year.", "日期不在该年度内。"),
            code("range_reversed", S422, PF, "A holiday ends before it starts.", "结束日期早于开始日期。"),
            code("range_too_long", S422, PF, "A holiday range is longer than allowed.", "放假区间过长。"),
            code("makeup_not_weekend", S422, PF, "A make-up working day is not a Saturday or Sunday.", "调休上班日不是周末。"),
            code("date_both_holiday_and_makeup", S422, PF, "A make-up day lies inside a holiday.", "调休上班日位于放假区间内。"),
            code("duplicate_date", S422, PF, "Holidays overlap, or a make-up day repeats.", "日期重复。"),
        ],
    },
    Group {
        title: "Documents",
        codes: &[
            code("unsupported_file_type", &[Status::Is(415)], P, "Only PDF, JPEG or PNG (recognised by content).", "只接受 PDF、JPEG 或 PNG 文件。"),
            code("file_too_large", &[Status::Is(413)], P, "The file exceeds `UPLOAD_MAX_BYTES`.", "文件超过大小上限。"),
            code("pdf_encrypted", S422, P, "The PDF needs a password to open.", "PDF 设置了打开密码。"),
            code("pdf_unreadable", S422, P, "Not a valid PDF, or damaged.", "PDF 无效或已损坏。"),
            code("document_kind_not_allowed", S422, PF, "The caller's role may not upload this kind.", "当前角色不能上传该类材料。"),
            code("unknown_document_kind", S422, PF, "No such document kind.", "未知的材料类型。"),
            code("document_content_missing", &[Status::Is(410)], P, "The document is recorded but its content is not (wholly) in the database; restore it from a backup.", "文件内容缺失或不完整。"),
        ],
    },
    Group {
        title: "Rounds and applications",
        codes: &[
            code("window_reversed", S422, PF, "A round's window closes before it opens.", "截止时间须晚于开始时间。"),
            code("validity_reversed", S422, PF, "The pool validity ends before it starts.", "有效期结束日须晚于开始日。"),
            code("round_closed", &[Status::Is(409), Status::Is(422)], &[Place::Problem, Place::Blocking], "The round is not open for applications.", "该批次不在申报时间内。"),
            code("round_not_open", S409, P, "Only a round accepting applications can be closed (an admin's early close).", "该批次不在申报时间内，无需关闭。"),
            code("application_not_editable", S409, P, "Only drafts and returned applications can be edited.", "只有草稿或退回补正的申报可以修改。"),
            code("invalid_transition", S409, P, "Not allowed in the application's current status.", "当前状态不允许此操作。"),
            code("duplicate_application", &[Status::Is(409), Status::Is(422)], &[Place::Problem, Place::Field, Place::Blocking], "A live application in the round already exists, or one is listed twice.", "已有在办申报，或申报重复列出。"),
            code("unknown_teacher", S422, &[Place::Problem, Place::Field, Place::Blocking], "The teacher is not on the institution's roster.", "教师不在本机构名册中。"),
            code("unknown_document", S422, PF, "The document does not exist or is not the caller's.", "材料不存在或不属于本机构。"),
            code("submission_blocked", S422, P, "Submission checks failed; every finding is in `errors[]`.", "申报未通过提交检查。"),
        ],
    },
    Group {
        title: "Submission checks",
        codes: &[
            code("uscc_banned", &[Status::Is(409), Status::Is(422)], &[Place::Problem, Place::Blocking], "The credit code is banned after a removal; `extra` gives the end.", "该信用代码处于禁入期。"),
            code("blacklisted", S422, B, "The institution is on a blacklist.", "机构被列入黑名单。"),
            code("linked_to_banned_institution", NONE, W, "An identity number appears in a banned institution's records.", "身份证件号码出现在禁入机构记录中。"),
            code("region_outside_bureau", NONE, W, "The credit code was registered outside the bureau's region.", "登记机关不在本局辖区。"),
            code("profile_incomplete", S422, B, "The profile lacks required facts.", "机构信息不完整。"),
            code("identity_needs_manual_check", NONE, W, "The legal representative's document is not a resident ID.", "法定代表人证件需人工核验。"),
            code("invalid_legal_rep_id", S422, B, "The legal representative's document is missing or invalid.", "法定代表人证件缺失或无效。"),
            code("no_items", S422, B, "No activity proposed.", "未申报活动项目。"),
            code("item_not_covered", NONE, W, "No teacher's speciality covers a proposed item.", "没有教师专长覆盖该项目。"),
            code("service_plan_missing", S422, B, "The service plan is missing.", "缺少服务方案。"),
            code("pledge_not_signed", S422, B, "The integrity pledge is not signed.", "未签署诚信承诺。"),
            code("document_missing", S422, B, "A required document is missing.", "缺少必备材料。"),
            code("merged_pdf_missing", S422, B, "The merged PDF of all materials is missing.", "缺少合并 PDF。"),
            code("merged_pdf_name", NONE, W, "The merged PDF is not named as the notice asks.", "合并 PDF 命名不规范。"),
            code("merged_pdf_unreadable", S422, B, "The merged PDF cannot be read.", "合并 PDF 无法读取。"),
            code("merged_pdf_partial", NONE, W, "Some merged PDF pages have no readable text.", "合并 PDF 部分页面无文字。"),
            code("merged_pdf_no_text", NONE, W, "The merged PDF is a scan: check it by hand.", "合并 PDF 为扫描件，需人工核对。"),
            code("merged_pdf_text_unreadable", NONE, W, "The merged PDF's text cannot be decoded: check it by hand.", "合并 PDF 文字无法识别，需人工核对。"),
            code("uscc_not_in_pdf", NONE, W, "The credit code is not in the merged PDF's text.", "合并 PDF 中未找到信用代码。"),
            code("name_not_in_pdf", NONE, W, "The institution's name is not in the merged PDF's text.", "合并 PDF 中未找到机构名称。"),
            code("certificate_not_in_pdf", NONE, W, "A teacher's certificate number is not in the merged PDF.", "合并 PDF 中未找到教师证书编号。"),
            code("annual_inspection_insufficient", S422, B, "Two consecutive passed annual inspections are required.", "须连续两年年检合格。"),
            code("no_teachers", S422, B, "No teacher listed.", "未列出教师。"),
            code("invalid_teacher_id", S422, B, "A teacher's identity number is invalid.", "教师身份证件号码无效。"),
            code("heritage_inheritor_exemption", NONE, W, "A teacher relies on a heritage-inheritor recognition.", "教师以非遗传承人身份放宽资质。"),
            code("teacher_without_credential", S422, B, "A teacher has no valid accepted credential.", "教师没有有效资质证书。"),
            code("criminal_record_check_outdated", S422, B, "A teacher's criminal-record check is too old.", "违法犯罪记录查询已过期。"),
            code("criminal_record_not_clean", S422, B, "A teacher's criminal-record check is not clean.", "违法犯罪记录查询结果不合格。"),
            code("criminal_record_check_missing", S422, B, "A teacher has no criminal-record check.", "缺少违法犯罪记录查询。"),
            code("teacher_on_other_roster", NONE, W, "A teacher is also on another institution's roster.", "教师同时在其他机构名册中。"),
        ],
    },
    Group {
        title: "Review, notices and objections",
        codes: &[
            code("reasons_required", S422, PF, "A decision or resolution needs reasons.", "请填写理由。"),
            code("approved_items_required", S422, PF, "An approval names at least one proposed item.", "须至少批准一个申报项目。"),
            code("item_not_proposed", S422, PF, "An approved item was not proposed.", "该项目不在申报项目中。"),
            code("duplicate_item", S422, PF, "An item is listed twice.", "项目重复。"),
            code("publication_backdated", S422, PF, "The publication date lies before today.", "公示日期不能早于今天。"),
            code("application_not_approved", S422, PF, "Only approved applications can be published.", "只有审核通过的申报可以公示。"),
            code("unknown_application", S422, PF, "No such application.", "申报不存在。"),
            code("mixed_rounds", S422, PF, "A notice's applications must share one round.", "同一公示的申报须属同一批次。"),
            code("name_required", S422, PF, "An objection needs the objector's real name.", "请填写真实姓名。"),
            code("grounds_too_short", S422, PF, "The objection's grounds are too short.", "异议理由过短。"),
            code("application_not_in_notice", S422, PF, "The application is not in this notice.", "该申报不在本次公示中。"),
            code("notice_closed", S409, P, "The notice is not accepting objections.", "不在公示期内。"),
            code("objection_resolved", S409, P, "The objection has already been resolved.", "该异议已处理。"),
        ],
    },
    Group {
        title: "Contracts, exits and sanctions",
        codes: &[
            code("invalid_term", S422, PF, "The contract ends before it starts.", "合同结束日期早于开始日期。"),
            code("term_too_long", S422, P, "A contract may run at most two school years.", "合同期限不得超过两个学年。"),
            code("not_in_pool", &[Status::Is(409), Status::Is(422)], P, "The institution is not an active pool member.", "该机构不是备选库有效成员。"),
            code("item_not_approved", S422, PF, "Contract items must be approved for the institution.", "合同项目须为获准的服务项目。"),
            code("already_evaluated", S409, P, "The contract is already evaluated for that term.", "该学期已评价。"),
            code("term_not_started", S422, P, "The term has not begun.", "学期尚未开始。"),
            code("term_outside_contract", S422, P, "The term is outside the contract's term.", "学期不在合同履行期内。"),
            code("invalid_school_term", S422, PF, "Not a school term like `2026-2027-1`.", "学期格式无效。"),
            code("grounds_missing", S422, PF, "An exit case cites at least one ground.", "请至少选择一项清退情形。"),
            code("exit_case_closed", S409, P, "The exit case has already been decided.", "该清退案件已作出决定。"),
            code("statement_already_filed", S409, P, "The statement of defence has already been filed.", "陈述申辩已提交。"),
            code("statement_window_closed", S409, P, "The statement window has closed.", "陈述申辩期限已届满。"),
            code("statement_window_open", S409, P, "Removal waits until the statement window closes or a statement is filed.", "陈述申辩期限未届满。"),
            code("contract_not_active", S409, P, "The contract is no longer active.", "合同已结束。"),
            code("invalid_source", S422, PF, "The blacklist source must be 1–100 characters.", "黑名单来源无效。"),
            code("blacklist_malformed", S422, P, "The blacklist file has errors (each line in `errors[]`); nothing imported.", "黑名单文件有错误，未导入。"),
            code("bad_quoting", S422, F, "A blacklist line's quoting is wrong.", "引号使用不当。"),
            code("bad_header", S422, F, "The blacklist header is not the expected one.", "表头不正确。"),
            code("empty_file", S422, F, "The blacklist file is empty.", "文件为空。"),
            code("not_utf8", S422, F, "The blacklist file is not UTF-8.", "文件不是 UTF-8 编码。"),
            code("wrong_column_count", S422, F, "A blacklist line has the wrong number of columns.", "列数不正确。"),
            code("missing_value", S422, F, "A blacklist line lacks a value.", "缺少字段值。"),
            code("source_mismatch", S422, F, "A line's source differs from the imported source.", "来源与导入来源不一致。"),
            code("duplicate_uscc", S422, F, "A credit code repeats an earlier line.", "信用代码重复。"),
        ],
    },
];

/// Every code of the catalogue.
pub fn all() -> impl Iterator<Item = &'static ErrorCode> {
    GROUPS.iter().flat_map(|g| g.codes.iter())
}

/// The entry of `code`, if the API answers it.
pub fn find(code: &str) -> Option<&'static ErrorCode> {
    all().find(|c| c.code == code)
}

/// The catalogue as the README's "Error codes" section (between its markers).
pub fn markdown() -> String {
    let mut out = String::from(
        "<!-- Generated from src/error/codes.rs: do not edit here. After changing the catalogue run\n     \
         UPDATE_SNAPSHOTS=1 cargo nextest run --lib error::codes -->\n\n\
         Every code the API answers, from the catalogue in `src/error/codes.rs` (its tests keep it\n\
         in step with the source). **in**: `code` is the problem's top-level `code`; `errors[]` a\n\
         field error's `code` (a 422 with field errors takes the first one's code, or its cause such\n\
         as `invalid_uscc`, as its top-level `code`; both are listed where that happens); *finding*\n\
         a blocking submission check, answered in `errors[]` of `submission_blocked`; *warning* a\n\
         check for the reviewer that never fails a request.\n",
    );
    for group in GROUPS {
        let _ = write!(
            out,
            "\n### {}\n\n| code | status | in | meaning |\n|---|---|---|---|\n",
            group.title
        );
        for c in group.codes {
            let statuses = if c.statuses.is_empty() {
                "—".to_owned()
            } else {
                c.statuses
                    .iter()
                    .map(|s| s.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let places = c
                .places
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "| `{}` | {statuses} | {places} | {} {} |",
                c.code, c.en, c.zh
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! The catalogue against the source tree and the README.
    //!
    //! The scanner reads `src/**/*.rs` as tokens, without `#[cfg(test)]` items and without this
    //! file, and takes a string literal for a code in these positions only:
    //!
    //! 1. the code argument of a call listed in [`CALLS`]: the constructors of problems, field
    //!    issues and findings, `.caused_by`, and the two helpers that pass a code on
    //!    (`check_text` in the calendar rules, `issue` in the blacklist parser); `Self::f` counts
    //!    inside `impl Type` as `Type::f`. A finding is blocking inside `b.push(…)` and a
    //!    warning inside `w.push(…)`;
    //! 2. a `=> "…"` arm in the body of a function named `code` or `…_code` (the validators'
    //!    reasons, catalogue and calendar errors, `ApiError::code`, the `validator` rule map);
    //! 3. the first element of a `("…", …)` tuple in a `let (code, …) = …;` statement
    //!    (`Problem::from_status` with the status of its `404 =>` arm; the JSON extractor);
    //! 4. a `code: "…"` field initialiser (outside the demo data, where `code` is a school's);
    //! 5. `Cow::Borrowed("…")` inside `impl ApiError` (`validation_failed`);
    //! 6. a rule of a `#[validate(…)]` attribute: its `code = "…"`, else its name mapped by the
    //!    arms of `rule_code` (`length` → `invalid_length`), else its name (`validator`'s own
    //!    code); and `ValidationError::new("…")` of a custom rule.
    //!
    //! Two guards keep the patterns complete. A call in [`CALLS`] whose code argument is not a
    //! literal must be listed in [`DYNAMIC`] with the functions its codes come from (whose
    //! codes then also get that call's place and status). A function with a parameter named
    //! `code`, `cause` or `…_code` of a string type must be in [`CALLS`] or in
    //! [`NOT_ERROR_CODES`].

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::*;

    // ---- tokens -------------------------------------------------------------------------

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Tok {
        Ident(String),
        Str(String),
        Num(String),
        Punct(&'static str),
        Other(char),
        Lifetime,
        Char,
    }

    #[derive(Debug, Clone)]
    struct Token {
        tok: Tok,
        line: usize,
    }

    impl Token {
        fn is_punct(&self, p: &str) -> bool {
            matches!(self.tok, Tok::Punct(q) if q == p)
        }
        fn is_ident(&self, name: &str) -> bool {
            matches!(&self.tok, Tok::Ident(n) if n == name)
        }
        fn is_other(&self, c: char) -> bool {
            self.tok == Tok::Other(c)
        }
        fn ident(&self) -> Option<&str> {
            match &self.tok {
                Tok::Ident(n) => Some(n),
                _ => None,
            }
        }
        fn string(&self) -> Option<&str> {
            match &self.tok {
                Tok::Str(s) => Some(s),
                _ => None,
            }
        }
        fn text(&self) -> String {
            match &self.tok {
                Tok::Ident(s) | Tok::Num(s) => s.clone(),
                Tok::Str(s) => format!("{s:?}"),
                Tok::Punct(p) => (*p).to_owned(),
                Tok::Other(c) => c.to_string(),
                Tok::Lifetime => "'_".to_owned(),
                Tok::Char => "'?'".to_owned(),
            }
        }
    }

    const PUNCTS: [&str; 14] = [
        "::", "=>", "->", "(", ")", "[", "]", "{", "}", ",", ";", ".", "#", ":",
    ];

    /// Rust source as tokens: comments dropped, string literals (plain, raw, byte) kept with
    /// their text, char literals told from lifetimes.
    fn tokenize(src: &str) -> Vec<Token> {
        let c: Vec<char> = src.chars().collect();
        let at = |i: usize| c.get(i).copied().unwrap_or('\0');
        let newlines = |from: usize, to: usize| {
            c[from.min(c.len())..to.min(c.len())]
                .iter()
                .filter(|&&x| x == '\n')
                .count()
        };
        let (mut i, mut line, mut out) = (0, 1, Vec::new());
        let mut push = |tok, line| out.push(Token { tok, line });
        while i < c.len() {
            let ch = c[i];
            if ch == '\n' {
                line += 1;
                i += 1;
            } else if ch.is_whitespace() {
                i += 1;
            } else if ch == '/' && at(i + 1) == '/' {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            } else if ch == '/' && at(i + 1) == '*' {
                let (from, mut depth) = (i, 0);
                while i < c.len() {
                    if c[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                line += newlines(from, i);
            } else if ch == '"' {
                let from = i + 1;
                i += 1;
                while i < c.len() && c[i] != '"' {
                    i += if c[i] == '\\' { 2 } else { 1 };
                }
                push(Tok::Str(c[from..i.min(c.len())].iter().collect()), line);
                line += newlines(from, i);
                i += 1;
            } else if ch == '\'' {
                if at(i + 1) == '\\' {
                    i += 2;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                    push(Tok::Char, line);
                } else if at(i + 2) == '\'' {
                    i += 3;
                    push(Tok::Char, line);
                } else {
                    i += 1;
                    while at(i).is_alphanumeric() || at(i) == '_' {
                        i += 1;
                    }
                    push(Tok::Lifetime, line);
                }
            } else if ch.is_alphabetic() || ch == '_' {
                let from = i;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                let word: String = c[from..i].iter().collect();
                let hashes = (i..).take_while(|&k| at(k) == '#').count();
                if (word == "r" || word == "br") && at(i + hashes) == '"' {
                    // A raw string: up to a quote followed by as many hashes.
                    let from = i + hashes + 1;
                    let mut k = from;
                    while k < c.len() && !(c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#')) {
                        k += 1;
                    }
                    push(Tok::Str(c[from..k.min(c.len())].iter().collect()), line);
                    line += newlines(from, k);
                    i = k + 1 + hashes;
                } else if word == "r" && hashes == 1 {
                    // A raw identifier (`r#type`).
                    i += 1;
                    let from = i;
                    while at(i).is_alphanumeric() || at(i) == '_' {
                        i += 1;
                    }
                    push(Tok::Ident(c[from..i].iter().collect()), line);
                } else if word == "b" && (at(i) == '"' || at(i) == '\'') {
                    // A byte string or byte: its quote starts the literal next round.
                } else {
                    push(Tok::Ident(word), line);
                }
            } else if ch.is_ascii_digit() {
                let from = i;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                push(Tok::Num(c[from..i].iter().collect()), line);
            } else {
                let two: String = [ch, at(i + 1)].iter().collect();
                let punct = PUNCTS
                    .iter()
                    .find(|p| **p == two)
                    .or_else(|| PUNCTS.iter().find(|p| p.len() == 1 && p.starts_with(ch)));
                match punct {
                    Some(p) => {
                        i += p.len();
                        push(Tok::Punct(p), line);
                    }
                    None => {
                        i += 1;
                        push(Tok::Other(ch), line);
                    }
                }
            }
        }
        out
    }

    /// The index just past the group that opens at `open` (`(`, `[` or `{`).
    fn close_of(t: &[Token], open: usize) -> usize {
        let mut depth = 0usize;
        for (k, tok) in t.iter().enumerate().skip(open) {
            match tok.tok {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return k + 1;
                    }
                }
                _ => {}
            }
        }
        t.len()
    }

    /// The index just past the `<…>` that opens at `open`.
    fn close_angle(t: &[Token], open: usize) -> usize {
        let mut depth = 0usize;
        for (k, tok) in t.iter().enumerate().skip(open) {
            if tok.is_other('<') {
                depth += 1;
            } else if tok.is_other('>') {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
        }
        t.len()
    }

    /// Drops every item marked `#[cfg(test)]`: test modules and test-only functions.
    fn without_tests(t: Vec<Token>) -> Vec<Token> {
        let mut out = Vec::with_capacity(t.len());
        let mut i = 0;
        while i < t.len() {
            let is = |k: usize, f: &dyn Fn(&Token) -> bool| t.get(i + k).is_some_and(f);
            let cfg_test = t[i].is_punct("#")
                && is(1, &|x| x.is_punct("["))
                && is(2, &|x| x.is_ident("cfg"))
                && is(3, &|x| x.is_punct("("))
                && is(4, &|x| x.is_ident("test"))
                && is(5, &|x| x.is_punct(")"))
                && is(6, &|x| x.is_punct("]"));
            if !cfg_test {
                out.push(t[i].clone());
                i += 1;
                continue;
            }
            // The item ends with its body's closing brace, or a `;` outside any group.
            let mut k = i + 7;
            while k < t.len() {
                match t[k].tok {
                    Tok::Punct("{") => {
                        k = close_of(&t, k);
                        break;
                    }
                    Tok::Punct("(" | "[") => k = close_of(&t, k),
                    Tok::Punct(";") => {
                        k += 1;
                        break;
                    }
                    _ => k += 1,
                }
            }
            i = k;
        }
        out
    }

    /// The comma-separated parts of the group that opens at `open`; with `angles`, commas
    /// inside `<…>` do not split (parameter lists, where `<` is never a comparison).
    fn parts(t: &[Token], open: usize, angles: bool) -> Vec<&[Token]> {
        let end = close_of(t, open).saturating_sub(1);
        let mut out = Vec::new();
        let (mut depth, mut from) = (0isize, open + 1);
        for k in open + 1..end {
            match t[k].tok {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => depth -= 1,
                Tok::Other('<') if angles => depth += 1,
                Tok::Other('>') if angles => depth -= 1,
                Tok::Punct(",") if depth == 0 => {
                    out.push(&t[from..k]);
                    from = k + 1;
                }
                _ => {}
            }
        }
        if from < end {
            out.push(&t[from..end]);
        }
        out
    }

    /// A literal argument: `"x"`, or `"x".into()` / `.to_owned()` / `.to_string()`.
    fn literal(arg: &[Token]) -> Option<&str> {
        let first = arg.first()?.string()?;
        let converted = arg.len() == 5
            && arg[1].is_punct(".")
            && matches!(arg[2].ident(), Some("into" | "to_owned" | "to_string"))
            && arg[3].is_punct("(")
            && arg[4].is_punct(")");
        (arg.len() == 1 || converted).then_some(first)
    }

    fn text_of(tokens: &[Token]) -> String {
        tokens.iter().map(Token::text).collect()
    }

    /// A token range and what it is: `impl Type { … }` or `fn name … { … }`.
    #[derive(Debug)]
    struct Scope {
        start: usize,
        end: usize,
        is_impl: bool,
        name: String,
    }

    /// The last identifier of the path starting at `k` (`crate::error::FieldIssue` → `FieldIssue`).
    fn path_end(t: &[Token], mut k: usize) -> Option<&str> {
        let mut name = t.get(k)?.ident()?;
        while t.get(k + 1).is_some_and(|x| x.is_punct("::")) {
            k += 2;
            name = t.get(k)?.ident()?;
        }
        Some(name)
    }

    fn scopes(t: &[Token]) -> Vec<Scope> {
        let mut out = Vec::new();
        for i in 0..t.len() {
            let item_start = i == 0
                || t[i - 1].is_punct("}")
                || t[i - 1].is_punct(";")
                || t[i - 1].is_punct("]")
                || t[i - 1].is_punct("{")
                || t[i - 1].is_ident("unsafe");
            if t[i].is_ident("impl") && item_start {
                let Some(open) = (i..t.len()).find(|&k| t[k].is_punct("{")) else {
                    continue;
                };
                let mut k = i + 1;
                if t.get(k).is_some_and(|x| x.is_other('<')) {
                    k = close_angle(t, k);
                }
                if let Some(f) = (k..open).find(|&j| t[j].is_ident("for")) {
                    k = f + 1;
                }
                if let Some(name) = path_end(t, k) {
                    out.push(Scope {
                        start: open,
                        end: close_of(t, open),
                        is_impl: true,
                        name: name.to_owned(),
                    });
                }
            }
            if t[i].is_ident("fn") {
                let Some(name) = t.get(i + 1).and_then(Token::ident) else {
                    continue;
                };
                let Some(params) = (i..t.len()).find(|&k| t[k].is_punct("(")) else {
                    continue;
                };
                let after = close_of(t, params);
                let body = (after..t.len()).find(|&k| t[k].is_punct("{") || t[k].is_punct(";"));
                if let Some(open) = body.filter(|&k| t[k].is_punct("{")) {
                    out.push(Scope {
                        start: i,
                        end: close_of(t, open),
                        is_impl: false,
                        name: name.to_owned(),
                    });
                }
            }
        }
        out
    }

    /// The innermost `impl` type and `fn` name around token `i`.
    fn context(scopes: &[Scope], i: usize) -> (Option<&str>, Option<&str>) {
        let innermost = |is_impl: bool| {
            scopes
                .iter()
                .filter(|s| s.is_impl == is_impl && s.start <= i && i < s.end)
                .min_by_key(|s| s.end - s.start)
                .map(|s| s.name.as_str())
        };
        (innermost(true), innermost(false))
    }

    /// `Type::function` (or `function` outside an impl) of the function around token `i`.
    fn origin(scopes: &[Scope], i: usize) -> Option<String> {
        match context(scopes, i) {
            (Some(ty), Some(f)) => Some(format!("{ty}::{f}")),
            (None, Some(f)) => Some(f.to_owned()),
            _ => None,
        }
    }

    // ---- what counts as a code -----------------------------------------------------------

    /// How the status of a call's problem is known.
    #[derive(Debug, Clone, Copy)]
    enum StatusOf {
        Fixed(u16),
        /// A `StatusCode::X` constant as argument 0.
        FirstArgument,
        /// Decided by the problem that carries the field issue or finding.
        Elsewhere,
    }

    /// A function that takes a code.
    struct Call {
        /// `Type::function`, `.method`, or a bare `function`.
        callee: &'static str,
        /// The file that defines it (a bare call counts only there).
        defined_in: &'static str,
        /// The index of the code among the arguments (`self` not counted).
        arg: usize,
        /// `None` for a finding: blocking or warning by the `b.push`/`w.push` around it.
        place: Option<Place>,
        status: StatusOf,
    }

    const CALLS: &[Call] = &[
        Call {
            callee: "ApiError::new",
            defined_in: "src/error.rs",
            arg: 1,
            place: Some(Place::Problem),
            status: StatusOf::FirstArgument,
        },
        Call {
            callee: "ApiError::rule",
            defined_in: "src/error.rs",
            arg: 0,
            place: Some(Place::Problem),
            status: StatusOf::Fixed(422),
        },
        Call {
            callee: "ApiError::conflict",
            defined_in: "src/error.rs",
            arg: 0,
            place: Some(Place::Problem),
            status: StatusOf::Fixed(409),
        },
        Call {
            callee: "ApiError::bad_request",
            defined_in: "src/error.rs",
            arg: 0,
            place: Some(Place::Problem),
            status: StatusOf::Fixed(400),
        },
        Call {
            callee: "ApiError::unauthenticated",
            defined_in: "src/error.rs",
            arg: 0,
            place: Some(Place::Problem),
            status: StatusOf::Fixed(401),
        },
        Call {
            callee: ".caused_by",
            defined_in: "src/error.rs",
            arg: 0,
            place: Some(Place::Problem),
            status: StatusOf::Fixed(422),
        },
        Call {
            callee: "FieldIssue::new",
            defined_in: "src/error.rs",
            arg: 1,
            place: Some(Place::Field),
            status: StatusOf::Elsewhere,
        },
        Call {
            callee: "FieldIssue::new",
            defined_in: "src/credentials/certificates.rs",
            arg: 1,
            place: Some(Place::Field),
            status: StatusOf::Elsewhere,
        },
        Call {
            callee: "CalendarFieldError::new",
            defined_in: "src/calendar/rules.rs",
            arg: 1,
            place: Some(Place::Field),
            status: StatusOf::Elsewhere,
        },
        Call {
            callee: "check_text",
            defined_in: "src/calendar/rules.rs",
            arg: 3,
            place: Some(Place::Field),
            status: StatusOf::Elsewhere,
        },
        Call {
            callee: "issue",
            defined_in: "src/sanctions/blacklist.rs",
            arg: 2,
            place: Some(Place::Field),
            status: StatusOf::Elsewhere,
        },
        Call {
            callee: "Finding::new",
            defined_in: "src/applications/checks.rs",
            arg: 0,
            place: None,
            status: StatusOf::Elsewhere,
        },
    ];

    /// A call in [`CALLS`] whose code is not a literal: (file, callee, argument as written,
    /// the functions whose codes it passes on). An empty list means the codes are scanned
    /// where they are written (the argument is a parameter or a stored value of them).
    #[rustfmt::skip]
    const DYNAMIC: &[(&str, &str, &str, &[&str])] = &[
        ("src/applications/checks.rs", "Finding::new", "e.code()", &["ActivityError::code"]),
        ("src/applications/checks.rs", "Finding::new", "&fi.code", &["BlockingIssue::code"]),
        // Blocking findings as the errors of `submission_blocked`: `Finding::new` is scanned.
        ("src/applications/service/submission.rs", "FieldIssue::new", "f.code.clone()", &[]),
        ("src/accounts/account.rs", "FieldIssue::new", "weakness.code()", &["Weakness::code"]),
        ("src/calendar/routes.rs", "ApiError::rule", "err.code()", &["CalendarError::code"]),
        // `check_text`'s parameter: its callers are scanned.
        ("src/calendar/rules.rs", "CalendarFieldError::new", "empty_code", &[]),
        // `CalendarFieldError`s become field issues: their constructor is scanned.
        ("src/calendar/store.rs", "FieldIssue::new", "e.code", &[]),
        ("src/catalogue/mod.rs", "FieldIssue::new", "self.code()", &["ActivityError::code"]),
        ("src/catalogue/mod.rs", "ApiError::rule", "self.code()", &["ActivityError::code"]),
        ("src/credentials/certificates.rs", "FieldIssue::new", "r.code()", &["TeacherNoReason::code"]),
        // `BlockingIssue::to_field_issue`: read only by the checks (`&fi.code` above).
        ("src/credentials/certificates.rs", "FieldIssue::new", "self.code()", &[]),
        ("src/credentials/identity.rs", "FieldIssue::new", "r.code()", &["IdReason::code"]),
        ("src/credentials/uscc.rs", "FieldIssue::new", "r.code()", &["UsccReason::code"]),
        // The validators' issues become the API's; the constructors pass their parameter on.
        ("src/credentials/certificates.rs", "FieldIssue::new", "i.code", &[]),
        ("src/error.rs", "ApiError::new", "code", &[]),
        ("src/http/json.rs", "FieldIssue::new", "code", &["parse_json"]),
        ("src/http/json.rs", "FieldIssue::new", "rule_code(&e.code)", &["rule_code"]),
        // The blacklist's line issues: `issue(…)` is scanned.
        ("src/sanctions/blacklist.rs", "FieldIssue::new", "i.code.clone()", &[]),
    ];

    /// Parameters named like a code that hold something else: (file, function, parameter).
    #[rustfmt::skip]
    const NOT_ERROR_CODES: &[(&str, &str, &str)] = &[
        ("src/catalogue/mod.rs", "activity", "code"),
        ("src/catalogue/mod.rs", "covers", "item_code"),
        ("src/catalogue/mod.rs", "is_filter", "code"),
        ("src/credentials/regions.rs", "new", "code"),
        ("src/credentials/regions.rs", "province", "code"),
        ("src/credentials/regions.rs", "significant_prefix", "code"),
        ("src/credentials/routes.rs", "check_uscc", "code"),
        ("src/http/json.rs", "rule_code", "code"),
        ("src/institutions/roster/mod.rs", "of", "code"),
        ("src/notify/events.rs", "application_rejected", "cause"),
        ("src/notify/events.rs", "ground_label", "code"),
        ("src/pool/search.rs", "of", "code"),
    ];

    /// `StatusCode` constants the source may pass to `ApiError::new`.
    fn status_of_constant(name: &str) -> Option<u16> {
        Some(match name {
            "BAD_REQUEST" => 400,
            "UNAUTHORIZED" => 401,
            "FORBIDDEN" => 403,
            "NOT_FOUND" => 404,
            "METHOD_NOT_ALLOWED" => 405,
            "NOT_ACCEPTABLE" => 406,
            "REQUEST_TIMEOUT" => 408,
            "CONFLICT" => 409,
            "GONE" => 410,
            "PRECONDITION_FAILED" => 412,
            "PAYLOAD_TOO_LARGE" => 413,
            "URI_TOO_LONG" => 414,
            "UNSUPPORTED_MEDIA_TYPE" => 415,
            "UNPROCESSABLE_ENTITY" => 422,
            "TOO_MANY_REQUESTS" => 429,
            "REQUEST_HEADER_FIELDS_TOO_LARGE" => 431,
            "INTERNAL_SERVER_ERROR" => 500,
            "SERVICE_UNAVAILABLE" => 503,
            _ => return None,
        })
    }

    /// One use of a code in the source.
    #[derive(Debug, Clone)]
    struct Use {
        code: String,
        at: String,
        place: Option<Place>,
        status: Option<u16>,
        /// The function whose `=> "…"` arm or `let (code, …)` holds it.
        origin: Option<String>,
    }

    /// A call in [`CALLS`] with a computed code argument.
    #[derive(Debug, Clone)]
    struct DynamicCall {
        file: String,
        at: String,
        callee: &'static str,
        argument: String,
        place: Option<Place>,
        status: Option<u16>,
    }

    /// What the scanner found in the source.
    #[derive(Debug, Default)]
    struct Scan {
        uses: Vec<Use>,
        dynamic: Vec<DynamicCall>,
        /// Patterns the scanner could not read (each names its place).
        trouble: Vec<String>,
        /// Functions with a code-like parameter: (file, impl type, function, index, parameter).
        code_parameters: Vec<(String, Option<String>, String, usize, String)>,
    }

    fn is_snake_case(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !s.ends_with('_')
            && !s.contains("__")
    }

    /// Whether the name at `i` (followed by `(`) calls `call`.
    fn calls(t: &[Token], i: usize, call: &Call, file: &str, impl_type: Option<&str>) -> bool {
        let Some(name) = t[i].ident() else {
            return false;
        };
        let before = |k: usize| i.checked_sub(k).and_then(|j| t.get(j));
        if let Some(method) = call.callee.strip_prefix('.') {
            return name == method && before(1).is_some_and(|x| x.is_punct("."));
        }
        match call.callee.split_once("::") {
            Some((ty, function)) => {
                name == function
                    && before(1).is_some_and(|x| x.is_punct("::"))
                    && before(2).is_some_and(|x| {
                        x.is_ident(ty) || (x.is_ident("Self") && impl_type == Some(ty))
                    })
            }
            None => {
                name == call.callee
                    && file == call.defined_in
                    && !before(1)
                        .is_some_and(|x| x.is_punct(".") || x.is_punct("::") || x.is_ident("fn"))
            }
        }
    }

    /// The place of the finding whose `Finding` token is at `k`: `b.push(` or `w.push(`.
    fn finding_place(t: &[Token], k: usize) -> Option<Place> {
        let list = k.checked_sub(4).and_then(|j| t.get(j))?;
        let pushed = t[k - 3].is_punct(".") && t[k - 2].is_ident("push") && t[k - 1].is_punct("(");
        match list.ident() {
            Some("b") if pushed => Some(Place::Blocking),
            Some("w") if pushed => Some(Place::Warning),
            _ => None,
        }
    }

    /// The validator rule names `rule_code` maps to codes (`length` → `invalid_length`).
    fn rule_map(files: &[(String, Vec<Token>)]) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        for (_, t) in files {
            for i in 0..t.len() {
                if !(t[i].is_ident("fn") && t.get(i + 1).is_some_and(|x| x.is_ident("rule_code"))) {
                    continue;
                }
                let Some(open) = (i..t.len()).find(|&k| t[k].is_punct("{")) else {
                    continue;
                };
                for k in open..close_of(t, open).saturating_sub(2) {
                    if let (Some(rule), true, Some(code)) =
                        (t[k].string(), t[k + 1].is_punct("=>"), t[k + 2].string())
                    {
                        map.insert(rule.to_owned(), code.to_owned());
                    }
                }
            }
        }
        map
    }

    /// Scans one file's tokens (tests already removed).
    fn scan_file(file: &str, t: &[Token], rules: &BTreeMap<String, String>, scan: &mut Scan) {
        let scopes = scopes(t);
        let at = |tok: &Token| format!("{file}:{}", tok.line);
        let mut found = |code: &str, tok: &Token, place, status, origin: Option<String>| {
            scan.uses.push(Use {
                code: code.to_owned(),
                at: at(tok),
                place,
                status,
                origin,
            });
        };
        let mut trouble = Vec::new();
        let mut dynamic = Vec::new();
        for i in 0..t.len() {
            let (impl_type, _) = context(&scopes, i);
            // 1. Calls that take a code.
            if t.get(i + 1).is_some_and(|x| x.is_punct("("))
                && let Some(call) = CALLS.iter().find(|c| calls(t, i, c, file, impl_type))
            {
                let args = parts(t, i + 1, false);
                let place = call.place.or_else(|| finding_place(t, i - 2));
                if place.is_none() {
                    trouble.push(format!(
                        "{}: a finding outside `b.push(…)` / `w.push(…)`: blocking or warning?",
                        at(&t[i])
                    ));
                }
                let status = match call.status {
                    StatusOf::Fixed(s) => Some(s),
                    StatusOf::Elsewhere => None,
                    StatusOf::FirstArgument => {
                        let constant = args
                            .first()
                            .and_then(|a| a.last())
                            .and_then(Token::ident)
                            .unwrap_or_default();
                        let status = status_of_constant(constant);
                        if status.is_none() && args.first().is_some_and(|a| a.len() > 1) {
                            trouble.push(format!(
                                "{}: status `{constant}` unknown to the scanner",
                                at(&t[i])
                            ));
                        }
                        status
                    }
                };
                match args.get(call.arg) {
                    Some(arg) => match literal(arg) {
                        Some(code) => found(code, &arg[0], place, status, None),
                        None => dynamic.push(DynamicCall {
                            file: file.to_owned(),
                            at: at(&arg[0]),
                            callee: call.callee,
                            argument: text_of(arg),
                            place,
                            status,
                        }),
                    },
                    None => trouble.push(format!(
                        "{}: `{}` with no argument {}",
                        at(&t[i]),
                        call.callee,
                        call.arg
                    )),
                }
            }
            // 2. `=> "x"` arms of `fn code` / `fn …_code`.
            if t[i].is_ident("fn")
                && t.get(i + 1)
                    .and_then(Token::ident)
                    .is_some_and(|n| n == "code" || n.ends_with("_code"))
                && let Some(open) = (i..t.len()).find(|&k| t[k].is_punct("{"))
            {
                for k in open..close_of(t, open).saturating_sub(1) {
                    if t[k].is_punct("=>")
                        && let Some(code) = t[k + 1].string()
                    {
                        found(code, &t[k + 1], None, None, origin(&scopes, k));
                    }
                }
            }
            // 3. `let (code, …) = …;`: the first element of each literal tuple.
            if t[i].is_ident("let")
                && t.get(i + 1).is_some_and(|x| x.is_punct("("))
                && t.get(i + 2).is_some_and(|x| x.is_ident("code"))
            {
                let mut depth = 0isize;
                for k in close_of(t, i + 1)..t.len() {
                    match t[k].tok {
                        Tok::Punct("(" | "[" | "{") => depth += 1,
                        Tok::Punct(")" | "]" | "}") => depth -= 1,
                        Tok::Punct(";") if depth <= 0 => break,
                        _ => {}
                    }
                    if t[k].is_punct("(")
                        && t.get(k + 2).is_some_and(|x| x.is_punct(","))
                        && let Some(code) = t[k + 1].string()
                    {
                        let status = match (k.checked_sub(2).map(|j| &t[j].tok), &t[k - 1]) {
                            (Some(Tok::Num(n)), arrow) if arrow.is_punct("=>") => n.parse().ok(),
                            _ => None,
                        };
                        let place = status.map(|_| Place::Problem);
                        found(code, &t[k + 1], place, status, origin(&scopes, k));
                    }
                }
            }
            // 4. `code: "x"` field initialisers.
            if t[i].is_ident("code")
                && t.get(i + 1).is_some_and(|x| x.is_punct(":"))
                && !file.starts_with("src/demo")
                && let Some(code) = t.get(i + 2).and_then(Token::string)
            {
                found(code, &t[i + 2], None, None, None);
            }
            // 5. `Cow::Borrowed("x")` inside `impl ApiError`.
            if t[i].is_ident("Cow")
                && impl_type == Some("ApiError")
                && t.get(i + 1).is_some_and(|x| x.is_punct("::"))
                && t.get(i + 2).is_some_and(|x| x.is_ident("Borrowed"))
                && t.get(i + 3).is_some_and(|x| x.is_punct("("))
                && let Some(code) = t.get(i + 4).and_then(Token::string)
            {
                found(code, &t[i + 4], Some(Place::Problem), None, None);
            }
            // 6. `#[validate(…)]` rules and `ValidationError::new("x")`.
            if t[i].is_punct("#")
                && t.get(i + 1).is_some_and(|x| x.is_punct("["))
                && t.get(i + 2).is_some_and(|x| x.is_ident("validate"))
                && t.get(i + 3).is_some_and(|x| x.is_punct("("))
            {
                for rule in parts(t, i + 3, false) {
                    let Some(name) = rule.first().and_then(Token::ident) else {
                        continue;
                    };
                    let explicit = rule.windows(3).find_map(|w| {
                        (w[0].is_ident("code") && w[1].is_other('='))
                            .then(|| w[2].string())
                            .flatten()
                    });
                    let code = match explicit {
                        Some(code) => Some(code.to_owned()),
                        // `nested` has no code of its own; a custom rule's code is the
                        // `ValidationError::new` of its function.
                        None if name == "nested" || name == "custom" => None,
                        None => Some(rules.get(name).cloned().unwrap_or_else(|| name.to_owned())),
                    };
                    if let Some(code) = code {
                        found(&code, &rule[0], Some(Place::Field), None, None);
                    }
                }
            }
            if t[i].is_ident("ValidationError")
                && t.get(i + 1).is_some_and(|x| x.is_punct("::"))
                && t.get(i + 2).is_some_and(|x| x.is_ident("new"))
                && t.get(i + 3).is_some_and(|x| x.is_punct("("))
                && let Some(code) = t.get(i + 4).and_then(Token::string)
            {
                found(code, &t[i + 4], Some(Place::Field), None, None);
            }
            // Functions with a code-like parameter (for the completeness guard).
            if t[i].is_ident("fn") {
                let Some(name) = t.get(i + 1).and_then(Token::ident) else {
                    continue;
                };
                let Some(open) = (i..t.len()).find(|&k| t[k].is_punct("(")) else {
                    continue;
                };
                let mut index = 0;
                for param in parts(t, open, true) {
                    if param.iter().take(3).any(|x| x.is_ident("self")) {
                        continue;
                    }
                    let param = match param.first() {
                        Some(m) if m.is_ident("mut") => &param[1..],
                        _ => param,
                    };
                    let (Some(pname), true) = (
                        param.first().and_then(Token::ident),
                        param.get(1).is_some_and(|x| x.is_punct(":")),
                    ) else {
                        index += 1;
                        continue;
                    };
                    let stringy = param[2..]
                        .iter()
                        .any(|x| x.is_ident("str") || x.is_ident("String") || x.is_ident("Cow"));
                    let codey = pname == "code" || pname == "cause" || pname.ends_with("_code");
                    if stringy && codey {
                        scan.code_parameters.push((
                            file.to_owned(),
                            impl_type.map(str::to_owned),
                            name.to_owned(),
                            index,
                            pname.to_owned(),
                        ));
                    }
                    index += 1;
                }
            }
        }
        scan.trouble.extend(trouble);
        scan.dynamic.extend(dynamic);
    }

    /// Scans files given as (path relative to the crate, source text).
    fn scan_sources(files: &[(String, String)]) -> Scan {
        let tokens: Vec<(String, Vec<Token>)> = files
            .iter()
            .map(|(file, text)| (file.clone(), without_tests(tokenize(text))))
            .collect();
        let rules = rule_map(&tokens);
        let mut scan = Scan::default();
        for (file, t) in &tokens {
            scan_file(file, t, &rules, &mut scan);
        }
        for code in scan
            .uses
            .iter()
            .map(|u| u.code.clone())
            .collect::<BTreeSet<_>>()
        {
            if !is_snake_case(&code) {
                let at = scan
                    .uses
                    .iter()
                    .find(|u| u.code == code)
                    .map(|u| u.at.clone());
                scan.trouble.push(format!(
                    "{}: `{code}` is not a snake_case code",
                    at.unwrap_or_default()
                ));
            }
        }
        // A computed code passed to a call gets that call's place and status.
        let mut derived = Vec::new();
        for d in &scan.dynamic {
            let entry = DYNAMIC
                .iter()
                .find(|(f, c, a, _)| *f == d.file && *c == d.callee && *a == d.argument);
            let Some((_, _, _, feeds)) = entry else {
                scan.trouble.push(format!(
                    "{}: `{}` gets a computed code `{}`; say where its codes come from in DYNAMIC",
                    d.at, d.callee, d.argument
                ));
                continue;
            };
            for u in scan
                .uses
                .iter()
                .filter(|u| u.origin.as_deref().is_some_and(|o| feeds.contains(&o)))
            {
                derived.push(Use {
                    code: u.code.clone(),
                    at: format!("{} (via {})", u.at, d.at),
                    place: d.place,
                    status: d.status,
                    origin: None,
                });
            }
        }
        scan.uses.extend(derived);
        scan
    }

    fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                source_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    fn crate_root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// The crate's sources but this file.
    fn scan_crate() -> Scan {
        let mut paths = Vec::new();
        source_files(&crate_root().join("src"), &mut paths);
        let files: Vec<(String, String)> = paths
            .into_iter()
            .map(|path| {
                let rel = path.strip_prefix(crate_root()).unwrap();
                let rel = rel.to_string_lossy().replace('\\', "/");
                (rel, std::fs::read_to_string(&path).unwrap())
            })
            .filter(|(rel, _)| rel != "src/error/codes.rs")
            .collect();
        scan_sources(&files)
    }

    fn place_name(place: Option<Place>) -> &'static str {
        place.map_or("a code", Place::label)
    }

    // ---- the tests ------------------------------------------------------------------------

    #[test]
    fn the_catalogue_lists_each_snake_case_code_once_with_a_meaning() {
        let mut seen = BTreeSet::new();
        for c in all() {
            assert!(is_snake_case(c.code), "`{}` is not snake_case", c.code);
            assert!(seen.insert(c.code), "`{}` is listed twice", c.code);
            assert!(!c.places.is_empty(), "`{}` has no place", c.code);
            assert!(
                !c.en.is_empty() && !c.zh.is_empty(),
                "`{}` has no meaning",
                c.code
            );
            assert!(
                !c.en.contains('|') && !c.zh.contains('|'),
                "`{}`: `|` breaks the table",
                c.code
            );
            let fails = c.places.iter().any(|p| *p != Place::Warning);
            assert_eq!(
                fails,
                !c.statuses.is_empty(),
                "`{}`: a code that fails a request has a status, a warning none",
                c.code
            );
        }
        assert_eq!(find("invalid_uscc").map(|c| c.statuses), Some(S422));
        assert!(find("no_such_code").is_none());
    }

    #[test]
    fn every_code_the_source_answers_is_in_the_catalogue() {
        let scan = scan_crate();
        let mut missing: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut wrong = Vec::new();
        for u in &scan.uses {
            let Some(entry) = find(&u.code) else {
                missing.entry(&u.code).or_default().push(format!(
                    "{} ({})",
                    u.at,
                    place_name(u.place)
                ));
                continue;
            };
            if let Some(place) = u.place
                && !entry.places.contains(&place)
            {
                wrong.push(format!(
                    "`{}` at {} is {}, which the catalogue does not say",
                    u.code,
                    u.at,
                    place.label()
                ));
            }
            if let Some(status) = u.status
                && !entry.statuses.iter().any(|s| s.covers(status))
            {
                wrong.push(format!(
                    "`{}` at {} comes with {status}, which the catalogue does not say",
                    u.code, u.at
                ));
            }
        }
        let mut report = Vec::new();
        if !missing.is_empty() {
            report.push("codes used in src but missing from src/error/codes.rs:".to_owned());
            report.extend(
                missing
                    .into_iter()
                    .map(|(code, at)| format!("  `{code}`: {}", at.join(", "))),
            );
        }
        if !wrong.is_empty() {
            report.push("uses the catalogue describes otherwise:".to_owned());
            report.extend(wrong.into_iter().map(|w| format!("  {w}")));
        }
        if !scan.trouble.is_empty() {
            report.push("places the scanner cannot read:".to_owned());
            report.extend(scan.trouble.into_iter().map(|t| format!("  {t}")));
        }
        assert!(report.is_empty(), "{}", report.join("\n"));
    }

    #[test]
    fn every_code_in_the_catalogue_is_still_answered() {
        let used: BTreeSet<String> = scan_crate().uses.into_iter().map(|u| u.code).collect();
        let stale: Vec<&str> = all()
            .map(|c| c.code)
            .filter(|code| !used.contains(*code))
            .collect();
        assert!(
            stale.is_empty(),
            "codes in src/error/codes.rs that src no longer uses: {stale:?}"
        );
    }

    #[test]
    fn every_computed_code_and_every_code_parameter_is_accounted_for() {
        let scan = scan_crate();
        let mut problems = Vec::new();
        for (file, callee, argument, _) in DYNAMIC {
            if !scan
                .dynamic
                .iter()
                .any(|d| d.file == *file && d.callee == *callee && d.argument == *argument)
            {
                problems.push(format!(
                    "DYNAMIC lists `{callee}({argument})` in {file}, which is gone"
                ));
            }
        }
        for (file, impl_type, function, index, parameter) in &scan.code_parameters {
            let known = CALLS.iter().any(|c| {
                let (ty, name) = match c.callee.split_once("::") {
                    Some((ty, name)) => (Some(ty), name),
                    None => (None, c.callee.trim_start_matches('.')),
                };
                c.defined_in == file
                    && name == function
                    && c.arg == *index
                    && (ty.is_none() || ty == impl_type.as_deref())
            });
            let excepted = NOT_ERROR_CODES
                .iter()
                .any(|(f, n, p)| f == file && n == function && p == parameter);
            if !known && !excepted {
                problems.push(format!(
                    "{file}: `{function}` takes `{parameter}`: add it to CALLS (it takes an \
                     error code) or to NOT_ERROR_CODES (it does not)"
                ));
            }
        }
        for (file, function, parameter) in NOT_ERROR_CODES {
            if !scan
                .code_parameters
                .iter()
                .any(|(f, _, n, _, p)| f == file && n == function && p == parameter)
            {
                problems.push(format!(
                    "NOT_ERROR_CODES lists `{function}({parameter})` in {file}, which is gone"
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The scanner itself, on a made-up file with each pattern and each trap.
    #[test]
    fn the_scanner_finds_codes_in_each_pattern_and_nowhere_else() {
        let source = r####"
            // ApiError::rule("in_a_comment", "", "")
            /* ApiError::rule("in_a_block", /* nested */ "", "") */
            fn f<'a>(x: &'a str) -> Result<(), ApiError> {
                let _ = 'x';
                let _ = '\'';
                let _ = r#"ApiError::rule("in_a_raw_string", "", "")"#;
                ApiError::rule("rule_code_here", "中", "en");
                crate::error::ApiError::conflict(
                    "conflict_code",
                    format!("{}", 1),
                    "en",
                );
                ApiError::new(
                    StatusCode::URI_TOO_LONG,
                    "long_code",
                    Msg::new("", ""),
                );
                issues.push(FieldIssue::new(format!("a[{i}]"), "field_code", Msg::new("", "")));
                FieldIssue::from(i).caused_by("cause_code");
                FieldIssue::new("field", "state", message);
                b.push(Finding::new("blocking_code", "f", rule::X, msg));
                w.push(Finding::new("warning_code", "f", rule::X, msg));
                Reason { code: "initialised_code".to_owned() };
                Ok(())
            }
            impl ApiError {
                fn validation() -> Self {
                    let code = errors.first().map_or(Cow::Borrowed("fallback_code"), f);
                    Self::new(StatusCode::CONFLICT, "self_code", m)
                }
            }
            impl Reason {
                pub const fn code(self) -> &'static str {
                    match self {
                        Self::A => "arm_code",
                        Self::B { .. } => "other_arm_code",
                    }
                }
            }
            fn from_status(status: StatusCode) -> Problem {
                let (code, zh): (&str, &str) = match status.as_u16() {
                    404 => ("tuple_code", "中"),
                    _ => ("fallback_tuple_code", "中"),
                };
            }
            fn rule_code(code: &str) -> String {
                match code { "length" => "invalid_length", other => other }.to_owned()
            }
            #[derive(Validate)]
            struct Body {
                #[validate(email, length(max = 5), url, custom(function = "f"), range(code = "own_code"))]
                a: String,
            }
            fn custom(_: &str) -> Result<(), ValidationError> { Err(ValidationError::new("custom_code")) }
            #[cfg(test)]
            mod tests {
                fn t() { ApiError::rule("in_a_test", "", ""); }
            }
            fn after_tests() { ApiError::bad_request("after_tests_code", "", ""); }
        "####;
        let scan = scan_sources(&[("src/made_up.rs".to_owned(), source.to_owned())]);
        assert!(scan.trouble.is_empty(), "{:?}", scan.trouble);
        let found: BTreeSet<String> = scan
            .uses
            .iter()
            .map(|u| format!("{} {:?} {:?}", u.code, u.place, u.status))
            .collect();
        let expected: BTreeSet<String> = [
            ("rule_code_here", Some(Place::Problem), Some(422)),
            ("conflict_code", Some(Place::Problem), Some(409)),
            ("long_code", Some(Place::Problem), Some(414)),
            ("field_code", Some(Place::Field), None),
            ("cause_code", Some(Place::Problem), Some(422)),
            ("state", Some(Place::Field), None),
            ("blocking_code", Some(Place::Blocking), None),
            ("warning_code", Some(Place::Warning), None),
            ("initialised_code", None, None),
            ("fallback_code", Some(Place::Problem), None),
            ("self_code", Some(Place::Problem), Some(409)),
            ("arm_code", None, None),
            ("other_arm_code", None, None),
            ("tuple_code", Some(Place::Problem), Some(404)),
            ("fallback_tuple_code", None, None),
            // The arm of `rule_code`, and the rules of the attribute: mapped, own, explicit.
            ("invalid_length", None, None),
            ("invalid_length", Some(Place::Field), None),
            ("email", Some(Place::Field), None),
            ("url", Some(Place::Field), None),
            ("own_code", Some(Place::Field), None),
            ("custom_code", Some(Place::Field), None),
            ("after_tests_code", Some(Place::Problem), Some(400)),
        ]
        .into_iter()
        .map(|(code, place, status)| format!("{code} {place:?} {status:?}"))
        .collect();
        assert_eq!(found, expected);
        // A computed code that DYNAMIC does not explain is trouble, and so is a code that is
        // not snake_case.
        let scan = scan_sources(&[(
            "src/made_up.rs".to_owned(),
            r#"fn g() { ApiError::rule(reason.code(), "", ""); ApiError::rule("Bad-Code", "", ""); }"#
                .to_owned(),
        )]);
        assert_eq!(scan.trouble.len(), 2, "{:?}", scan.trouble);
    }

    const START: &str = "<!-- error-codes:start -->";
    const END: &str = "<!-- error-codes:end -->";

    #[test]
    fn the_readme_vocabulary_is_generated_from_the_catalogue() {
        let path = crate_root().join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
            panic!("README.md has no {START} … {END} section");
        };
        let current = &readme[start + START.len()..end];
        let wanted = format!("\n{}", markdown());
        if current == wanted {
            return;
        }
        if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
            let updated = format!("{}{START}{wanted}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        panic!(
            "README.md's error codes differ from src/error/codes.rs; rerun with UPDATE_SNAPSHOTS=1 \
             to regenerate them"
        );
    }
}
