//! A panic inside a module aborts redis-server. The code avoids every panic
//! it can; this hook makes sure that if one still happens, the Redis log says
//! where, instead of the server vanishing without a word.

use redis_module::logging::log_warning;

pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("sess: PANIC, redis-server will abort: {info}");
        // The logger builds a C string; a NUL would make it panic again.
        log_warning(message.replace('\0', "\\0"));
    }));
}
