namespace TsNet;
