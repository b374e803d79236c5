using Microsoft.Extensions.Options;

namespace Observability.Sidecar.Configuration;

/// <summary>
/// Checks <see cref="SidecarOptions"/>' attributes and its own rules with code generated at build time, not
/// reflection, so the natively compiled sidecar validates exactly as the JIT-compiled one.
/// </summary>
[OptionsValidator]
internal sealed partial class SidecarOptionsValidator : IValidateOptions<SidecarOptions>;
