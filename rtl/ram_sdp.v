// ram_sdp: simple dual-port RAM (one write port, one synchronous read port), EBR-inferable.
//
// Written in the pattern yosys maps to SB_RAM40_4K block RAM on iCE40 (registered read
// with enable, no reset on the read register). rdata shows mem[raddr] one cycle after a
// cycle with re = 1 and holds otherwise. A read and a write of the same address in the same
// cycle return the old word in simulation; do not rely on it in hardware (the EBR does not
// promise it). INIT_FILE (hex, one word per line, $readmemh) preloads the contents in
// simulation and in the bitstream (EBR contents are initialised by the configuration).
`default_nettype none

module ram_sdp #(
    parameter DATA_W    = 16,               // word width
    parameter DEPTH     = 256,              // number of words
    parameter ADDR_W    = $clog2(DEPTH),    // address width (derived; override only to widen)
    parameter INIT_FILE = ""                // $readmemh file with the initial contents, "" = none
) (
    input  wire              clk,
    // write port
    input  wire              we,
    input  wire [ADDR_W-1:0] waddr,
    input  wire [DATA_W-1:0] wdata,
    // read port
    input  wire              re,
    input  wire [ADDR_W-1:0] raddr,
    output reg  [DATA_W-1:0] rdata
);

    // no_rw_check: same-address read/write in one cycle is left undefined (see above), so
    // yosys maps to SB_RAM40_4K without collision-bypass logic around it.
    (* no_rw_check *)
    reg [DATA_W-1:0] mem [0:DEPTH-1];

    generate
        if (INIT_FILE != "") begin : g_init
            initial $readmemh(INIT_FILE, mem);
        end
    endgenerate

    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
    end

    always @(posedge clk) begin
        if (re) rdata <= mem[raddr];
    end

endmodule

`default_nettype wire
