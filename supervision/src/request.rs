//! What a service answers: a [`Request`] and the handler's [`Reply`] to it.

use std::future::Future;

use futures_util::future::BoxFuture;

/// A message a service can handle; `Output` is what the caller gets back.
pub trait Request: Send + 'static {
    /// The answer to this request.
    type Output: Send + 'static;
}

/// A handler's answer: ready now, or computed by a future that does not borrow the state and
/// runs on the caller's thread.
pub enum Reply<T> {
    /// The answer, computed synchronously.
    Ready(T),
    /// The answer, computed asynchronously by the caller (the future may not touch actor state).
    Later(BoxFuture<'static, T>),
}

impl<T> Reply<T> {
    /// An asynchronous answer.
    pub fn later(fut: impl Future<Output = T> + Send + 'static) -> Self {
        Reply::Later(Box::pin(fut))
    }
}
