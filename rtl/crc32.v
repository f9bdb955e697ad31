// crc32: CRC-32/ISO-HDLC (zlib.crc32: reflected poly 0xEDB88320, init and xorout 0xFFFFFFFF),
// one byte per cycle.
//
// A cycle with clr = 1 restarts the checksum (a byte given in the same cycle is ignored); a
// cycle with en = 1 folds data into it, least significant bit first. A cycle with ld = 1
// (and no clr) sets the checksum to ld_crc, so a checksum saved from crc continues exactly
// where it was (a rewind); a byte given in that cycle is ignored. crc is the checksum of
// the bytes folded since the last clr/rst (the final xorout applied), registered (valid the
// cycle after en); with no byte folded it is 0x00000000, as zlib.crc32(b""). Check value:
// "123456789" -> 0xCBF43926. The host side's reference is zlib.crc32.
`default_nettype none

module crc32 (
    input  wire        clk,
    input  wire        rst,    // synchronous, active high: restart
    input  wire        clr,    // restart the checksum
    input  wire        en,     // fold data into the checksum
    input  wire [7:0]  data,
    input  wire        ld,     // continue from ld_crc (a crc value read earlier)
    input  wire [31:0] ld_crc,
    output wire [31:0] crc
);

    reg  [31:0] state_q;       // the register of the reflected algorithm (init all ones)
    reg  [31:0] nxt;
    integer     i;
    always @* begin
        nxt = state_q ^ {24'd0, data};
        for (i = 0; i < 8; i = i + 1)
            nxt = nxt[0] ? ({1'b0, nxt[31:1]} ^ 32'hEDB88320) : {1'b0, nxt[31:1]};
    end

    always @(posedge clk) begin
        if (rst | clr) state_q <= 32'hFFFFFFFF;
        else if (ld) state_q <= ~ld_crc;
        else if (en) state_q <= nxt;
    end

    assign crc = ~state_q;

endmodule

`default_nettype wire
