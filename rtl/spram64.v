// spram64: 16384 x 64-bit single-port RAM from the four SB_SPRAM256KA of the iCE40 UP5K.
//
// One port: a cycle with we = 1 writes the 16-bit lanes selected by wmask (lane i =
// wdata[16*i+15:16*i]) at addr; a cycle with we = 0 reads addr, and rdata shows the word
// one cycle later and holds until the next read. After a write cycle rdata is undefined
// (the primitive drives X), so read again before using it.
// Synthesis (yosys defines SYNTHESIS): four SB_SPRAM256KA, one per 16-bit lane, always
// selected and powered. Simulation: a behavioural model with the same timing.
// INIT_FILE (hex, 64-bit words, $readmemh) preloads the SIMULATION model only: the
// bitstream does NOT initialise SPRAM, so hardware must write the contents (e.g. the
// weights) through the write port after configuration.
`default_nettype none

module spram64 #(
    parameter INIT_FILE = ""  // simulation-only preload ($readmemh, 64-bit words), "" = none
) (
    input  wire        clk,
    input  wire        we,     // 1: write the lanes in wmask, 0: read
    input  wire [3:0]  wmask,  // per-16-bit-lane write enable (lane 0 = bits 15:0)
    input  wire [13:0] addr,
    input  wire [63:0] wdata,
    output wire [63:0] rdata
);

`ifdef SYNTHESIS
    genvar i;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_lane
            SB_SPRAM256KA u_spram (
                .ADDRESS   (addr),
                .DATAIN    (wdata[16*i +: 16]),
                .MASKWREN  ({4{wmask[i]}}),
                .WREN      (we),
                .CHIPSELECT(1'b1),
                .CLOCK     (clk),
                .STANDBY   (1'b0),
                .SLEEP     (1'b0),
                .POWEROFF  (1'b1),
                .DATAOUT   (rdata[16*i +: 16])
            );
        end
    endgenerate
`else
    reg [63:0] mem [0:16383];
    reg [63:0] rdata_q;
    assign rdata = rdata_q;

    generate
        if (INIT_FILE != "") begin : g_init
            initial $readmemh(INIT_FILE, mem);
        end
    endgenerate

    always @(posedge clk) begin
        if (we) begin
            if (wmask[0]) mem[addr][15:0]  <= wdata[15:0];
            if (wmask[1]) mem[addr][31:16] <= wdata[31:16];
            if (wmask[2]) mem[addr][47:32] <= wdata[47:32];
            if (wmask[3]) mem[addr][63:48] <= wdata[63:48];
            rdata_q <= {64{1'bx}};  // as the primitive: undefined after a write
        end else begin
            rdata_q <= mem[addr];
        end
    end
`endif

endmodule

`default_nettype wire
