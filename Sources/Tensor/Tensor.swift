/// Placeholder replaced by the Tensor core.
public struct Tensor {}
