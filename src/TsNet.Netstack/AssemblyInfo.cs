namespace TsNet.Netstack;
