namespace Observability.Sidecar.Diagnostics;

internal static class Files
{
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover socket is deleted before the next listen, a leftover dump is the operator's.
        }
    }
}
