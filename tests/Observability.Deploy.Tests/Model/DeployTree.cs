using Observability.Testing;

namespace Observability.Deploy.Tests.Model;

/// <summary>deploy/ as the tests read it.</summary>
internal static class DeployTree
{
    public static string Root => Path.Combine(RepositoryFiles.Root, "deploy");

    public static string ComposePath => Path.Combine(Root, "docker-compose.yml");

    /// <summary>The documented example of deploy/.env: Compose is read with these values.</summary>
    public static IReadOnlyDictionary<string, string> ExampleDotEnv => EnvFile.Load(Path.Combine(Root, ".env.example"));

    public static ComposeFile Compose() => ComposeFile.Load(ComposePath, ExampleDotEnv);

    /// <summary>The sample function's image and the sources whose environment variables it reads.</summary>
    public const string SampleImage = "obs-sample-hello";

    public static string SampleSources => Path.Combine(RepositoryFiles.Root, "samples", "HelloFunction");
}
