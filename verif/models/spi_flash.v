// spi_flash: behavioural model of a SPI NOR flash (W25Q128 family, mode 0, single I/O) for
// simulation: the commands a reader after configuration uses.
//
//   0xAB  Release Power-down: the flash answers commands selected tRES1 (T_RES1_NS) or more
//         after the deselect that ends this command; a command selected earlier, or while
//         powered down, is ignored (except 0xAB) and MISO floats (z).
//   0xB9  Power-down (takes effect at the deselect).
//   0x03  Read: 24-bit address, then bytes from it for as long as SCK runs.
//   0x0B  Fast Read: 24-bit address, 8 dummy clocks, then bytes.
// Contents: SIZE bytes at flash addresses BASE .. BASE+SIZE-1 from MEM_FILE ($readmemh, one
// byte per line, "" = none); every other address reads 0xFF (erased). The address wraps at
// 2^24 like the W25Q128. POWER_DOWN = 1 starts the model in deep power-down (as a flash that
// a previous design put to sleep), so a reader that skips the wake-up reads only z.
// The model samples MOSI on the rising SCK edge and changes MISO on the falling edge.
// Times are in units of the simulation's timescale (1 ns in this project's testbenches).
`default_nettype none

module spi_flash #(
    parameter MEM_FILE   = "",         // $readmemh file: the bytes at BASE ..
    parameter [31:0] BASE = 0,         // flash address of the file's first byte
    parameter SIZE       = 1048576,    // bytes the model holds (from BASE)
    parameter POWER_DOWN = 1,          // 1: start in deep power-down
    parameter T_RES1_NS  = 3000        // release from power-down to ready (W25Q128: 3 us)
) (
    input  wire sck,
    input  wire cs_n,
    input  wire mosi,
    output wire miso
);

    reg [7:0]  mem [0:SIZE-1];
    integer    k;
    initial begin
        for (k = 0; k < SIZE; k = k + 1) mem[k] = 8'hFF;
        if (MEM_FILE != "") $readmemh(MEM_FILE, mem);
    end

    reg        pd;            // in deep power-down
    reg [63:0] ready_at;      // time from which the flash answers
    reg [31:0] sel_id;        // counts selects (each process notices a new one itself)
    reg        sel_ok;        // the flash was awake and ready when this select began
    reg [31:0] n;             // rising SCK edges since select (written by the SCK process only)
    reg [31:0] n_id;          // select that n counts for
    reg [7:0]  cmd;
    reg [23:0] addr;
    reg        out_bit;
    reg [31:0] out_id;        // select in which MISO was last driven
    reg [31:0] d;
    reg [23:0] a;
    reg [7:0]  byte_v;

    initial begin
        pd       = (POWER_DOWN != 0);
        ready_at = 64'd0;
        sel_id   = 32'd0;
        sel_ok   = 1'b0;
        n        = 32'd0;
        n_id     = 32'd0;
        cmd      = 8'd0;
        addr     = 24'd0;
        out_bit  = 1'b1;
        out_id   = 32'hFFFFFFFF;
    end

    assign miso = (!cs_n && out_id == sel_id) ? out_bit : 1'bz;

    function [7:0] read_byte(input [23:0] at);
        integer off;
        begin
            off = {8'd0, at} - BASE;
            if (off >= 0 && off < SIZE) read_byte = mem[off];  // off is signed (integer)
            else read_byte = 8'hFF;
        end
    endfunction

    // select (counted) and deselect (ends 0xAB / 0xB9)
    always @(cs_n) begin
        if (!cs_n) begin
            sel_id = sel_id + 32'd1;
            sel_ok = !pd && $time >= ready_at;   // a command selected earlier is ignored
        end else if (n_id == sel_id && n >= 32'd8) begin
            if (cmd == 8'hAB && pd) begin
                pd       = 1'b0;
                ready_at = $time + {32'd0, T_RES1_NS[31:0]};
            end else if (cmd == 8'hB9 && sel_ok) begin
                pd = 1'b1;
            end
        end
    end

    always @(posedge sck) begin
        if (!cs_n) begin
            if (n_id != sel_id) begin
                n_id = sel_id;
                n    = 32'd0;
            end
            n = n + 32'd1;
            if (n <= 32'd8) cmd = {cmd[6:0], mosi};
            else if (n <= 32'd32) addr = {addr[22:0], mosi};
        end
    end

    // data out on the falling edge after the last address / dummy clock
    always @(negedge sck) begin
        if (!cs_n && n_id == sel_id && sel_ok
                && ((cmd == 8'h03 && n >= 32'd32) || (cmd == 8'h0B && n >= 32'd40))) begin
            d       = n - ((cmd == 8'h03) ? 32'd32 : 32'd40);
            a       = addr + d[26:3];
            byte_v  = read_byte(a);
            out_bit = byte_v[3'd7 - d[2:0]];
            out_id  = sel_id;
        end
    end

endmodule

`default_nettype wire
