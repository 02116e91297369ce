//! Fields of INFO, read without RM_Call so that a renamed INFO or CONFIG
//! command does not matter.

use std::ffi::CStr;

use redis_module::Context;

use crate::api::call;

/// The text of `field` in INFO `section`, if the server has it.
pub fn field(ctx: &Context, section: &CStr, field: &CStr) -> Option<Vec<u8>> {
    let raw = ctx.get_raw();
    // SAFETY: the info data is freed below; the field's text lives until then.
    unsafe {
        let info = call!(RedisModule_GetServerInfo(raw, section.as_ptr()) or std::ptr::null_mut());
        if info.is_null() {
            return None;
        }
        let text = call!(RedisModule_ServerInfoGetFieldC(info, field.as_ptr()) or std::ptr::null());
        let value = (!text.is_null()).then(|| CStr::from_ptr(text).to_bytes().to_vec());
        call!(RedisModule_FreeServerInfo(raw, info) or ());
        value
    }
}

/// Whether the server is Valkey (it names itself in INFO server).
pub fn is_valkey(ctx: &Context) -> bool {
    field(ctx, c"server", c"server_name").is_some_and(|name| name == b"valkey")
}
