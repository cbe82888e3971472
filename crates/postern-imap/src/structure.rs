//! BODYSTRUCTURE from mail-parser's view of a message.

use imap_next::imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, MultiPartExtensionData, SinglePartExtensionData,
    SpecificFields,
};
use imap_next::imap_types::core::{IString, NString, Vec1};
use mail_parser::{MessageParser, MessagePart, MimeHeaders, PartType};

fn istr(s: &str) -> IString<'static> {
    IString::try_from(s.to_owned()).unwrap_or_else(|_| {
        IString::from(imap_next::imap_types::core::Quoted::unvalidated(
            "x".to_owned(),
        ))
    })
}

fn nstr(s: Option<&str>) -> NString<'static> {
    NString(s.and_then(|s| IString::try_from(s.to_owned()).ok()))
}

fn params(
    attrs: Option<&[mail_parser::Attribute<'_>]>,
) -> Vec<(IString<'static>, IString<'static>)> {
    attrs
        .unwrap_or_default()
        .iter()
        .map(|a| (istr(&a.name), istr(&a.value)))
        .collect()
}

fn disposition(p: &MessagePart<'_>) -> Option<Disposition<'static>> {
    let d = p.content_disposition()?;
    Some(Disposition {
        disposition: Some((istr(d.ctype()), params(d.attributes()))),
        tail: None,
    })
}

fn single(raw: &[u8], p: &MessagePart<'_>, ext: bool) -> BodyStructure<'static> {
    let (ctype, subtype, attrs) = match p.content_type() {
        Some(ct) => (
            ct.ctype().to_owned(),
            ct.subtype().unwrap_or("plain").to_owned(),
            params(ct.attributes()),
        ),
        None => (
            "text".to_owned(),
            "plain".to_owned(),
            vec![(istr("charset"), istr("us-ascii"))],
        ),
    };
    let body = raw
        .get(p.offset_body as usize..p.offset_end as usize)
        .unwrap_or_default();
    let basic = BasicFields {
        parameter_list: attrs,
        id: nstr(p.content_id()),
        description: nstr(p.content_description()),
        content_transfer_encoding: istr(p.content_transfer_encoding().unwrap_or("7bit")),
        size: body.len() as u32,
    };
    let specific = if ctype.eq_ignore_ascii_case("text") {
        SpecificFields::Text {
            subtype: istr(&subtype),
            number_of_lines: body.iter().filter(|b| **b == b'\n').count() as u32,
        }
    } else {
        SpecificFields::Basic {
            r#type: istr(&ctype),
            subtype: istr(&subtype),
        }
    };
    BodyStructure::Single {
        body: Body { basic, specific },
        extension_data: ext.then(|| SinglePartExtensionData {
            md5: NString(None),
            tail: disposition(p),
        }),
    }
}

fn part(
    raw: &[u8],
    parts: &[MessagePart<'_>],
    p: &MessagePart<'_>,
    ext: bool,
    depth: usize,
) -> BodyStructure<'static> {
    match &p.body {
        PartType::Multipart(children) if depth < 16 => {
            let bodies: Vec<_> = children
                .iter()
                .filter_map(|id| parts.get(*id as usize))
                .map(|c| part(raw, parts, c, ext, depth + 1))
                .collect();
            let subtype = p
                .content_type()
                .and_then(|c| c.subtype())
                .unwrap_or("mixed")
                .to_owned();
            match Vec1::try_from(bodies) {
                Ok(bodies) => BodyStructure::Multi {
                    bodies,
                    subtype: istr(&subtype),
                    extension_data: ext.then(|| MultiPartExtensionData {
                        parameter_list: params(p.content_type().and_then(|c| c.attributes())),
                        tail: None,
                    }),
                },
                Err(_) => single(raw, p, ext),
            }
        }
        _ => single(raw, p, ext),
    }
}

/// The message's BODYSTRUCTURE (`ext`: with extension data) or BODY.
pub(crate) fn body_structure(msg: &[u8], ext: bool) -> BodyStructure<'static> {
    match MessageParser::default().parse(msg) {
        Some(m) => match m.parts.first() {
            Some(root) => part(msg, &m.parts, root, ext, 0),
            None => text_plain(msg),
        },
        None => text_plain(msg),
    }
}

fn text_plain(msg: &[u8]) -> BodyStructure<'static> {
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: vec![(istr("charset"), istr("us-ascii"))],
                id: NString(None),
                description: NString(None),
                content_transfer_encoding: istr("7bit"),
                size: msg.len() as u32,
            },
            specific: SpecificFields::Text {
                subtype: istr("plain"),
                number_of_lines: msg.iter().filter(|b| **b == b'\n').count() as u32,
            },
        },
        extension_data: None,
    }
}
