namespace Observability.Sidecar.Supervision;

/// <summary>A moment the sidecar measured, and how far it may be off either way.</summary>
public readonly record struct Moment(DateTime At, TimeSpan Uncertainty);
