//! Builders for webhook bodies exactly as Meta sends them. The sandbox uses them to
//! play WhatsApp; tests use them to play Meta.

use serde_json::{json, Value};

/// Who the business number is.
#[derive(Debug, Clone)]
pub struct BusinessNumber {
    pub waba_id: String,
    pub phone_number_id: String,
    pub display_phone_number: String,
}

fn envelope(n: &BusinessNumber, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": n.waba_id,
            "changes": [{ "value": value, "field": "messages" }]
        }]
    })
}

fn metadata(n: &BusinessNumber) -> Value {
    json!({ "display_phone_number": n.display_phone_number, "phone_number_id": n.phone_number_id })
}

/// An inbound message of any type (Meta's message object) from `contact` (its
/// `contacts[]` entry: profile name, `wa_id` and/or `user_id`).
pub fn inbound_message(n: &BusinessNumber, contact: Value, message: Value) -> Value {
    envelope(
        n,
        json!({ "messaging_product": "whatsapp", "metadata": metadata(n), "contacts": [contact], "messages": [message] }),
    )
}

/// An inbound text message from a customer with phone number `wa_id`.
pub fn inbound_text(n: &BusinessNumber, wa_id: &str, name: &str, wamid: &str, unix_secs: i64, body: &str) -> Value {
    inbound_message(
        n,
        json!({ "profile": { "name": name }, "wa_id": wa_id }),
        json!({ "from": wa_id, "id": wamid, "timestamp": unix_secs.to_string(), "text": { "body": body }, "type": "text" }),
    )
}

/// A status (`sent`, `delivered`, `read`) for one of the business's messages.
pub fn status(n: &BusinessNumber, wamid: &str, status: &str, recipient_wa_id: &str, unix_secs: i64) -> Value {
    status_with_callback(n, wamid, status, recipient_wa_id, unix_secs, None)
}

/// A status that echoes the `biz_opaque_callback_data` the message was sent with.
pub fn status_with_callback(
    n: &BusinessNumber,
    wamid: &str,
    status: &str,
    recipient_wa_id: &str,
    unix_secs: i64,
    callback: Option<&str>,
) -> Value {
    let mut st = json!({
        "id": wamid,
        "status": status,
        "timestamp": unix_secs.to_string(),
        "recipient_id": recipient_wa_id,
    });
    if let Some(c) = callback {
        st["biz_opaque_callback_data"] = json!(c);
    }
    if status == "sent" {
        st["conversation"] = json!({ "id": format!("conv-{recipient_wa_id}"), "origin": { "type": "service" } });
        st["pricing"] = json!({ "billable": false, "pricing_model": "PMP", "category": "service", "type": "free_customer_service" });
    }
    envelope(n, json!({ "messaging_product": "whatsapp", "metadata": metadata(n), "statuses": [st] }))
}
