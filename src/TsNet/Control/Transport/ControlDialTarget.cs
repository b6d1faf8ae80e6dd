namespace TsNet.Control.Transport;

/// <summary>One way to reach the control server: host, port, TLS or not, and how long after the first attempt to start it.</summary>
internal sealed record ControlDialTarget(string Host, int Port, bool UseTls, TimeSpan StartDelay);
